package io.berth.spi.containers;

import java.util.List;

/**
 * {@code docker top}: {@code ps} columns for the container's processes.
 *
 * @param titles    the column titles
 * @param processes one row per process
 */
public record Top(List<String> titles, List<List<String>> processes) {
}
