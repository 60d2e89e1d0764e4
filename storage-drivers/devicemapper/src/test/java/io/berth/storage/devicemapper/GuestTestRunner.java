package io.berth.storage.devicemapper;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectMethod;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * Runs JUnit test classes inside the VM and reports each test on the serial
 * console, one line each, for {@link DeviceMapperVmTest} to turn back into
 * tests that Maven counts:
 * {@code GUEST-TEST <SUCCESSFUL|FAILED|ABORTED|SKIPPED> <class>#<method> <millis> <message>}
 * (the message on one line, {@code \n} escaped). Exits 1 when a test failed.
 */
public final class GuestTestRunner {

    private GuestTestRunner() {
    }

    public static void main(String[] classes) throws Exception {
        LauncherDiscoveryRequestBuilder request = LauncherDiscoveryRequestBuilder.request();
        for (String name : classes) {
            // a class, or one test of it: CLASS#METHOD
            request.selectors(name.contains("#") ? selectMethod(name) : selectClass(Class.forName(name)));
        }
        // two at a time, as the VM has two CPUs: most of a test's time is waiting for processes and the kernel
        request.configurationParameter("junit.jupiter.execution.parallel.enabled", "true")
                .configurationParameter("junit.jupiter.execution.parallel.mode.default", "concurrent")
                .configurationParameter("junit.jupiter.execution.parallel.config.strategy", "fixed")
                .configurationParameter("junit.jupiter.execution.parallel.config.fixed.parallelism", "2");
        AtomicInteger failed = new AtomicInteger();
        Launcher launcher = LauncherFactory.create();
        launcher.execute(request.build(), new Reporter(failed));
        System.out.flush();
        System.exit(failed.get() == 0 ? 0 : 1);
    }

    private static final class Reporter implements TestExecutionListener {

        private final AtomicInteger failed;
        private final java.util.Map<String, Long> started = new java.util.concurrent.ConcurrentHashMap<>();

        Reporter(AtomicInteger failed) {
            this.failed = failed;
        }

        @Override
        public void executionStarted(TestIdentifier test) {
            started.put(test.getUniqueId(), System.nanoTime());
        }

        @Override
        public void executionSkipped(TestIdentifier test, String reason) {
            if (test.isTest()) {
                report("SKIPPED", test, 0, reason);
            }
        }

        @Override
        public void executionFinished(TestIdentifier test, TestExecutionResult result) {
            long millis = (System.nanoTime() - started.getOrDefault(test.getUniqueId(), System.nanoTime())) / 1_000_000;
            String message = result.getThrowable().map(GuestTestRunner::describe).orElse("");
            if (test.isTest()) {
                report(result.getStatus().name(), test, millis, message);
            } else if (result.getStatus() == TestExecutionResult.Status.FAILED) {
                // a class whose set-up failed: its tests never ran, which must not look like success
                report("FAILED", test, millis, message);
            }
            if (result.getStatus() == TestExecutionResult.Status.FAILED) {
                failed.incrementAndGet();
            }
        }

        private static void report(String status, TestIdentifier test, long millis, String message) {
            String name = test.getSource().filter(MethodSource.class::isInstance).map(MethodSource.class::cast)
                    .map(source -> simple(source.getClassName()) + "#" + source.getMethodName())
                    .orElse(test.getDisplayName().replace(' ', '_'));
            System.out.println("GUEST-TEST " + status + " " + name + " " + millis + " "
                    + (message == null ? "" : message.replace("\\", "\\\\").replace("\r", "").replace("\n", "\\n")));
        }

        private static String simple(String className) {
            return className.substring(className.lastIndexOf('.') + 1);
        }
    }

    /** The failure and where it happened: its message and the top of its stack trace. */
    private static String describe(Throwable failure) {
        StringBuilder text = new StringBuilder(failure.toString());
        StackTraceElement[] stack = failure.getStackTrace();
        for (int i = 0; i < Math.min(stack.length, 12); i++) {
            text.append("\n\tat ").append(stack[i]);
        }
        for (Throwable cause = failure.getCause(); cause != null; cause = cause.getCause()) {
            text.append("\nCaused by: ").append(cause);
        }
        for (Throwable suppressed : failure.getSuppressed()) {
            text.append("\nSuppressed: ").append(suppressed);
        }
        return text.toString();
    }
}
