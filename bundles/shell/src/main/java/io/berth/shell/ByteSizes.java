package io.berth.shell;

import java.math.BigDecimal;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Sizes as the docker CLI reads them for {@code --memory} and friends: binary units, {@code 512m}, {@code 1.5g}. */
final class ByteSizes {

    private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([kmgtp])?i?b?", Pattern.CASE_INSENSITIVE);

    private ByteSizes() {
    }

    static long parse(String text, String flag) {
        Matcher m = SIZE.matcher(text.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException("invalid argument \"" + text + "\" for \"" + flag
                    + "\" flag: invalid size: '" + text + "'");
        }
        int shift = m.group(2) == null ? 0 : 10 * ("kmgtp".indexOf(m.group(2).toLowerCase(Locale.ROOT)) + 1);
        return new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(1L << shift)).longValue();
    }
}
