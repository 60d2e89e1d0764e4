package io.berth.shell;

import java.util.Locale;

/** Byte counts as the docker CLI prints them (go-units: four significant digits, no trailing zeros). */
final class Sizes {

    private static final String[] DECIMAL_UNITS = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
    private static final String[] BINARY_UNITS = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};

    private Sizes() {
    }

    /** Decimal units, as {@code images} and {@code system df} print sizes (HumanSize). */
    static String human(long bytes) {
        return format(bytes, 1000, DECIMAL_UNITS);
    }

    /** Binary units, as {@code stats} prints memory (BytesSize). */
    static String binary(long bytes) {
        return format(bytes, 1024, BINARY_UNITS);
    }

    private static String format(long bytes, int base, String[] units) {
        double size = bytes;
        int unit = 0;
        while (size >= base && unit < units.length - 1) {
            size /= base;
            unit++;
        }
        String number = String.format(Locale.ROOT, "%.4g", size);
        if (number.contains(".")) {
            number = number.replaceAll("0+$", "").replaceAll("\\.$", "");
        }
        return number + units[unit];
    }
}
