package io.berth.api;

import java.math.BigInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Docker Engine API versions berth answers: requests may be prefixed
 * with {@code /v1.NN}; versions outside {@link #MIN}..{@link #MAX} get
 * dockerd's 400 messages.
 */
final class ApiVersion {

    static final String MAX = "1.47";
    static final String MIN = "1.24";

    private static final Pattern PREFIX = Pattern.compile("^/v(\\d+)\\.(\\d+)(/.*)?$");

    private ApiVersion() {
    }

    /** The path without its version prefix, e.g. {@code /v1.47/_ping} -> {@code /_ping}. */
    static String strip(String path) {
        Matcher matcher = PREFIX.matcher(path);
        if (!matcher.matches()) {
            return path;
        }
        return matcher.group(3) == null ? "/" : matcher.group(3);
    }

    /** dockerd's complaint about the request's version, or {@code null} when it is served. */
    static String problem(String path) {
        Matcher matcher = PREFIX.matcher(path);
        if (!matcher.matches()) {
            return null;
        }
        String requested = matcher.group(1) + "." + matcher.group(2);
        if (compare(requested, MAX) > 0) {
            return "client version " + requested + " is too new. Maximum supported API version is " + MAX;
        }
        if (compare(requested, MIN) < 0) {
            return "client version " + requested + " is too old. Minimum supported API version is " + MIN
                    + ", please upgrade your client to a newer version";
        }
        return null;
    }

    static int compare(String a, String b) {
        String[] left = a.split("\\.");
        String[] right = b.split("\\.");
        for (int i = 0; i < Math.max(left.length, right.length); i++) {
            // BigInteger: the digits come from the request path and may not fit in an int
            BigInteger l = i < left.length ? new BigInteger(left[i]) : BigInteger.ZERO;
            BigInteger r = i < right.length ? new BigInteger(right[i]) : BigInteger.ZERO;
            if (!l.equals(r)) {
                return l.compareTo(r);
            }
        }
        return 0;
    }
}
