package io.berth.containers;

import java.util.Locale;
import java.util.Map;

/** Linux signal names and numbers as {@code docker kill --signal} and {@code STOPSIGNAL} take them. */
final class Signals {

    static final int SIGKILL = 9;
    static final int SIGTERM = 15;

    private static final int RTMIN = 34;
    private static final int RTMAX = 64;

    private static final Map<String, Integer> NUMBERS = Map.ofEntries(
            Map.entry("HUP", 1), Map.entry("INT", 2), Map.entry("QUIT", 3), Map.entry("ILL", 4),
            Map.entry("TRAP", 5), Map.entry("ABRT", 6), Map.entry("IOT", 6), Map.entry("BUS", 7),
            Map.entry("FPE", 8), Map.entry("KILL", 9), Map.entry("USR1", 10), Map.entry("SEGV", 11),
            Map.entry("USR2", 12), Map.entry("PIPE", 13), Map.entry("ALRM", 14), Map.entry("TERM", 15),
            Map.entry("STKFLT", 16), Map.entry("CHLD", 17), Map.entry("CONT", 18), Map.entry("STOP", 19),
            Map.entry("TSTP", 20), Map.entry("TTIN", 21), Map.entry("TTOU", 22), Map.entry("URG", 23),
            Map.entry("XCPU", 24), Map.entry("XFSZ", 25), Map.entry("VTALRM", 26), Map.entry("PROF", 27),
            Map.entry("WINCH", 28), Map.entry("IO", 29), Map.entry("POLL", 29), Map.entry("PWR", 30),
            Map.entry("SYS", 31), Map.entry("RTMIN", RTMIN), Map.entry("RTMAX", RTMAX));

    private Signals() {
    }

    /**
     * The number of a signal given as {@code KILL}, {@code SIGKILL}, {@code sigkill}, {@code 9},
     * {@code RTMIN+3} or {@code SIGRTMAX-2}; refuses anything else with Docker's "Invalid signal: X".
     */
    static int parse(String signal) {
        String text = signal == null ? "" : signal.trim();
        try {
            int number = Integer.parseInt(text);
            if (number >= 1 && number <= RTMAX) {
                return number;
            }
        } catch (NumberFormatException notANumber) {
            String name = text.toUpperCase(Locale.ROOT);
            if (name.startsWith("SIG")) {
                name = name.substring(3);
            }
            Integer number = NUMBERS.get(name);
            if (number != null) {
                return number;
            }
            Integer realTime = realTime(name);
            if (realTime != null) {
                return realTime;
            }
        }
        throw new IllegalArgumentException("Invalid signal: " + signal);
    }

    /** {@code RTMIN+n} and {@code RTMAX-n} within the real-time range, else null. */
    private static Integer realTime(String name) {
        try {
            int number;
            if (name.startsWith("RTMIN+")) {
                number = RTMIN + Integer.parseInt(name.substring(6));
            } else if (name.startsWith("RTMAX-")) {
                number = RTMAX - Integer.parseInt(name.substring(6));
            } else {
                return null;
            }
            return number >= RTMIN && number <= RTMAX ? number : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
