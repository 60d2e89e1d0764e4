package io.berth.spi.shell;

/** A terminal's window size in character cells; 0 when the terminal does not know it. */
public record TerminalSize(int rows, int columns) {
}
