package io.berth.spi.containers;

/**
 * A path in a container ({@code docker cp}'s {@code X-Docker-Container-Path-Stat}).
 *
 * @param name       the base name
 * @param size       bytes
 * @param mode       Go's {@code os.FileMode} bits as Docker sends them
 * @param mtime      RFC 3339 modification time
 * @param linkTarget the symlink's target, or empty
 */
public record PathStat(String name, long size, long mode, String mtime, String linkTarget) {
}
