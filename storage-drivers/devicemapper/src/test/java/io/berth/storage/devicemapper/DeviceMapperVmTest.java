package io.berth.storage.devicemapper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.berth.storage.testsuite.StorageDriverConformanceTest;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;
import org.opentest4j.TestAbortedException;

/**
 * The devicemapper driver's tests, run where device-mapper is: this host's
 * kernel has none, so one VM ({@link DeviceMapperVm}) runs the {@code *InGuest}
 * classes on this JVM and class path ({@link GuestTestRunner}), two at a time.
 * Each test the guest ran comes back as a test here (a dynamic test of the
 * same name), so Maven's counts and failures are the guest's. Without the
 * packages the VM needs, the harness fails, and so does every test here.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DeviceMapperVmTest {

    private static final List<Class<?>> GUEST_CLASSES = List.of(DeviceMapperConformanceInGuest.class,
            DeviceMapperPoolInGuest.class);
    /** The whole VM's limit, within the issue's 5 minutes. */
    private static final int VM_SECONDS = 280;

    private final Map<String, String> facts = new HashMap<>();
    /** Each guest test: name -> {status, message}. */
    private final Map<String, String[]> results = new LinkedHashMap<>();
    private String console;
    private int vmStatus;

    @BeforeAll
    void runTheVm() throws Exception {
        List<String> tests = List.of(System.getProperty("berth.vm.guest-tests",
                String.join(" ", GUEST_CLASSES.stream().map(Class::getName).toList())).split(" "));
        DeviceMapperVm.Outcome outcome = DeviceMapperVm.run(GuestTestRunner.class, tests, VM_SECONDS);
        console = outcome.console();
        vmStatus = outcome.status();
        Files.writeString(Path.of("target/devicemapper-vm-console.txt"), console); // for whoever reads a failure
        parse(console);
        // in the build's log: each guest test with its outcome and time, then the totals
        console.lines().filter(line -> line.startsWith("GUEST-TEST "))
                .forEach(line -> System.out.println(line.split(" ", 5).length < 5 ? line
                        : String.join(" ", Arrays.copyOf(line.split(" ", 5), 4)) + " ms"));
        System.out.printf("devicemapper VM: %d ms, status %d, guest tests: %d run, %d failed, %d skipped%n",
                outcome.millis(), vmStatus, results.size(), count("FAILED"), count("ABORTED") + count("SKIPPED"));
    }

    private void parse(String text) {
        for (String line : text.split("\n")) {
            if (line.startsWith("FACT ") && line.contains("=")) {
                facts.put(line.substring("FACT ".length(), line.indexOf('=')), line.substring(line.indexOf('=') + 1));
            } else if (line.startsWith("GUEST-TEST ")) {
                String[] fields = line.split(" ", 5);
                results.put(fields[2], new String[] {fields[1],
                        fields.length > 4 ? fields[4].replace("\\n", "\n").replace("\\\\", "\\") : ""});
            }
        }
    }

    private long count(String status) {
        return results.values().stream().filter(result -> result[0].equals(status)).count();
    }

    /** Every test the guest ran, as a test of its own here. */
    @TestFactory
    Stream<DynamicTest> inTheVm() {
        if (results.isEmpty()) {
            fail("the VM ran no tests (harness status " + vmStatus + "); its console:\n" + console);
        }
        return results.entrySet().stream().map(entry -> DynamicTest.dynamicTest(entry.getKey(), () -> {
            String status = entry.getValue()[0];
            String message = entry.getValue()[1];
            switch (status) {
                case "SUCCESSFUL" -> { }
                case "ABORTED", "SKIPPED" -> throw new TestAbortedException("skipped in the VM: " + message);
                default -> fail(entry.getKey() + " failed in the VM: " + message);
            }
        }));
    }

    /** The conformance suite ran whole in the guest: as many tests as the suite has, none missing. */
    @Test
    void theWholeConformanceSuiteRanInTheVm() {
        long suite = 0;
        for (Class<?> type = StorageDriverConformanceTest.class; type != null; type = type.getSuperclass()) {
            for (Method method : type.getDeclaredMethods()) {
                if (method.isAnnotationPresent(Test.class)) {
                    suite++;
                }
            }
        }
        long ran = results.keySet().stream()
                .filter(name -> name.startsWith(DeviceMapperConformanceInGuest.class.getSimpleName() + "#")).count();
        assertEquals(suite, ran, "conformance tests the VM reported; console:\n" + console);
    }

    /** The guest runner ended cleanly and the tests left no device-mapper or loop device behind. */
    @Test
    void theVmEndedCleanlyAndTheTestsLeftNoDevices() {
        assertEquals("0", facts.getOrDefault("runner-status", "none"), "the guest runner's status; console:\n" + console);
        assertTrue(facts.getOrDefault("devices-left", "?").contains("No devices found"),
                "device-mapper devices left: " + facts.get("devices-left"));
        assertEquals("0", facts.getOrDefault("loops-left", "?").trim(), "loop devices left");
        assertEquals(0, vmStatus, "the VM's status; console:\n" + console);
    }
}
