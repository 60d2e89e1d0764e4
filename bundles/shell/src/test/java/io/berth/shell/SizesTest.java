package io.berth.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Sizes print as the docker CLI prints them. */
class SizesTest {

    @Test
    void decimalUnitsWithFourSignificantDigits() {
        assertEquals("0B", Sizes.human(0));
        assertEquals("999B", Sizes.human(999));
        assertEquals("1kB", Sizes.human(1000));
        assertEquals("1.234kB", Sizes.human(1234));
        assertEquals("4.194MB", Sizes.human(4_194_304));
        assertEquals("1.5GB", Sizes.human(1_500_000_000L));
    }
}
