package io.berth.containers;

import io.berth.spi.containers.HostConfig.RestartPolicy;
import java.time.Duration;

/**
 * {@code --restart} as Docker's restart manager applies it: whether an exited container runs again, and after
 * what pause (100 ms, doubling with every restart up to a minute, back to 100 ms once a run lasted 10 s).
 */
final class RestartPolicies {

    static final Duration FIRST_DELAY = Duration.ofMillis(100);
    static final Duration MAX_DELAY = Duration.ofMinutes(1);
    /** A run at least this long resets the back-off. */
    static final Duration STABLE_RUN = Duration.ofSeconds(10);

    private RestartPolicies() {
    }

    /** Refuses a policy Docker refuses, with Docker's words. */
    static void validate(RestartPolicy policy, boolean autoRemove) {
        String name = nameOf(policy);
        switch (name) {
            case "no", "always", "unless-stopped", "on-failure" -> { }
            default -> throw new IllegalArgumentException("invalid restart policy: unknown policy '" + name
                    + "'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'");
        }
        if (policy != null && policy.maximumRetryCount() != 0 && !name.equals("on-failure")) {
            throw new IllegalArgumentException(
                    "invalid restart policy: maximum retry count can only be used with 'on-failure'");
        }
        if (policy != null && policy.maximumRetryCount() < 0) {
            throw new IllegalArgumentException("invalid restart policy: maximum retry count cannot be negative");
        }
        if (autoRemove && !name.equals("no")) {
            throw new IllegalArgumentException("can't create 'AutoRemove' container with restart policy");
        }
    }

    /** The policy's name, {@code no} for none. */
    static String nameOf(RestartPolicy policy) {
        return policy == null || policy.name() == null || policy.name().isEmpty() ? "no" : policy.name();
    }

    /**
     * Whether a container that exited on its own (not stopped by the user) runs again.
     *
     * @param restartCount how often the policy restarted it since the user last started it
     */
    static boolean shouldRestart(RestartPolicy policy, int exitCode, int restartCount) {
        return switch (nameOf(policy)) {
            case "always", "unless-stopped" -> true;
            case "on-failure" -> exitCode != 0
                    && (policy.maximumRetryCount() == 0 || restartCount < policy.maximumRetryCount());
            default -> false;
        };
    }

    /** Whether a container recorded as running when the engine went away is started again at the next start. */
    static boolean startsWithEngine(RestartPolicy policy, boolean stoppedByUser) {
        String name = nameOf(policy);
        return name.equals("always") || (name.equals("unless-stopped") && !stoppedByUser);
    }

    /** The pause before the next restart, given the previous one (null at first) and how long the run lasted. */
    static Duration nextDelay(Duration previous, Duration ran) {
        if (previous == null || ran.compareTo(STABLE_RUN) >= 0) {
            return FIRST_DELAY;
        }
        Duration doubled = previous.multipliedBy(2);
        return doubled.compareTo(MAX_DELAY) > 0 ? MAX_DELAY : doubled;
    }
}
