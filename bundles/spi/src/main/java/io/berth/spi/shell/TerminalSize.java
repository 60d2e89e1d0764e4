package io.berth.spi.shell;

/** A terminal's window size in character cells. */
public record TerminalSize(int rows, int columns) {
}
