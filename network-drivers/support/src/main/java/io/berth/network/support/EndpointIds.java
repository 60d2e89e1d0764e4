package io.berth.network.support;

import java.util.regex.Pattern;

/** The rule for network and endpoint ids: they name files and links, so they must be plain names. */
public final class EndpointIds {

    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");

    private EndpointIds() {
    }

    /**
     * Returns {@code id} when it is a plain name (letters, digits, {@code _ . -}, at most 128, not
     * starting with a dot or dash), else throws an {@link IllegalArgumentException} saying so.
     */
    public static String check(String kind, String id) {
        if (id == null || !ID.matcher(id).matches()) {
            throw new IllegalArgumentException("invalid " + kind + " id '" + id
                    + "': use 1 to 128 letters, digits, '_', '.' or '-', starting with a letter or digit");
        }
        return id;
    }
}
