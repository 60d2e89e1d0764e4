package io.berth.storage.archive;

import io.berth.spi.idmap.IdMap;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntUnaryOperator;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Files and tars of a container in a user namespace: on disk its files belong to host ids, in tars that go in and
 * out of it (cp, export, commit) to the ids the container sees, as Docker's {@code userns-remap} does.
 */
public final class IdShift {

    /** What a container sees for a host id its user namespace does not map (the kernel's overflow id). */
    static final int OVERFLOW_ID = 65534;
    private static final int SET_ID_BITS = 06000;

    private IdShift() {
    }

    /**
     * Gives every file below {@code root}, {@code root} included, the host owner {@code map} gives its owner. Every
     * owner is read before the first is changed, so a hard-linked file is shifted once however often it is met.
     * The setuid and setgid bits, which a chown clears, are set again.
     *
     * @throws IllegalArgumentException if a file's owner is outside the map (nothing is changed then)
     */
    public static void shiftTree(Path root, IdMap map) throws IOException {
        record Owned(Path path, FileStat stat, int uid, int gid) {
        }
        List<Owned> files = new ArrayList<>();
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attributes) throws IOException {
                add(dir);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) throws IOException {
                add(file);
                return FileVisitResult.CONTINUE;
            }

            private void add(Path path) throws IOException {
                FileStat stat = FileStat.lstat(path);
                try {
                    files.add(new Owned(path, stat, map.hostUid((int) stat.uid()), map.hostGid((int) stat.gid())));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(root.relativize(path) + ": " + e.getMessage(), e);
                }
            }
        });
        for (Owned file : files) {
            Files.setAttribute(file.path(), "unix:uid", file.uid(), LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(file.path(), "unix:gid", file.gid(), LinkOption.NOFOLLOW_LINKS);
            int mode = file.stat().mode();
            if ((mode & SET_ID_BITS) != 0 && file.stat().type() != FileStat.S_IFLNK) {
                Files.setAttribute(file.path(), "unix:mode", mode & 07777, LinkOption.NOFOLLOW_LINKS);
            }
        }
    }

    /** Sets the owner of one path (not following a link) to the host ids of container ids {@code uid:gid}. */
    public static void chownToHost(Path path, int uid, int gid, IdMap map) throws IOException {
        Files.setAttribute(path, "unix:uid", map.hostUid(uid), LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(path, "unix:gid", map.hostGid(gid), LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * A tar of a container's files (host owners) with the owners the container sees; host ids the map does not
     * cover become 65534, as in the container. Read on a thread of its own while the result is read.
     */
    public static InputStream toContainerIds(InputStream hostTar, IdMap map) {
        return remapped(hostTar, id -> containerOrOverflow(map::containerUid, id),
                id -> containerOrOverflow(map::containerGid, id));
    }

    /**
     * A tar for a container (owners as the container sees them) with host owners; an owner outside the map fails
     * the read with the entry named.
     */
    public static InputStream toHostIds(InputStream containerTar, IdMap map) {
        return remapped(containerTar, map::hostUid, map::hostGid);
    }

    /**
     * An output stream that takes a tar with host owners and writes it to {@code out} with the container's owners
     * ({@link #toContainerIds}); closing it finishes the tar (not {@code out}) and reports any failure.
     */
    public static OutputStream toContainerIds(OutputStream out, IdMap map) throws IOException {
        PipedInputStream hostTar = new PipedInputStream(1 << 16);
        PipedOutputStream writer = new PipedOutputStream(hostTar);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread copier = new Thread(() -> {
            try (InputStream shifted = toContainerIds(hostTar, map)) {
                shifted.transferTo(out);
            } catch (Throwable e) {
                failure.set(e);
                try {
                    hostTar.close(); // the writer's next write fails instead of blocking
                } catch (IOException ignored) {
                    // closing a pipe does not fail
                }
            }
        }, "berth-idshift-out");
        copier.setDaemon(true);
        copier.start();
        return new FilterOutputStream(writer) {
            @Override
            public void write(byte[] bytes, int offset, int length) throws IOException {
                writer.write(bytes, offset, length);
            }

            @Override
            public void close() throws IOException {
                writer.close();
                try {
                    copier.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while a tar's owners were shifted");
                }
                if (failure.get() != null) {
                    throw new IOException("cannot shift the tar's owners: " + failure.get().getMessage(), failure.get());
                }
            }
        };
    }

    private static int containerOrOverflow(IntUnaryOperator toContainer, int hostId) {
        try {
            return toContainer.applyAsInt(hostId);
        } catch (IllegalArgumentException unmapped) {
            return OVERFLOW_ID;
        }
    }

    /** Copies a tar entry by entry (headers, PAX records, data) with each owner passed through the functions. */
    private static InputStream remapped(InputStream tar, IntUnaryOperator uid, IntUnaryOperator gid) {
        PipedInputStream result = new PipedInputStream(1 << 16);
        PipedOutputStream sink;
        try {
            sink = new PipedOutputStream(result);
        } catch (IOException e) {
            throw new IllegalStateException(e); // a new pipe always connects
        }
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread copier = new Thread(() -> {
            try (TarArchiveInputStream in = new TarArchiveInputStream(tar);
                 TarArchiveOutputStream out = new TarArchiveOutputStream(sink)) {
                out.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
                out.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
                out.setAddPaxHeadersForNonAsciiNames(true);
                TarArchiveEntry entry;
                while ((entry = in.getNextEntry()) != null) {
                    try {
                        entry.setUserId(uid.applyAsInt((int) entry.getLongUserId()));
                        entry.setGroupId(gid.applyAsInt((int) entry.getLongGroupId()));
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException(entry.getName() + ": " + e.getMessage(), e);
                    }
                    out.putArchiveEntry(entry);
                    in.transferTo(out); // the entry's data; nothing for links, directories and devices
                    out.closeArchiveEntry();
                }
                out.finish();
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "berth-idshift");
        copier.setDaemon(true);
        copier.start();
        return new java.io.FilterInputStream(result) {
            @Override
            public int read() throws IOException {
                int b = super.read();
                return b < 0 ? endOrFailure() : b;
            }

            @Override
            public int read(byte[] bytes, int offset, int length) throws IOException {
                int n = super.read(bytes, offset, length);
                return n < 0 ? endOrFailure() : n;
            }

            private int endOrFailure() throws IOException {
                try {
                    copier.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while a tar's owners were shifted");
                }
                Throwable problem = failure.get();
                if (problem instanceof IOException io) {
                    throw io;
                }
                if (problem != null) {
                    throw new IOException(problem.getMessage(), problem);
                }
                return -1;
            }

            @Override
            public void close() throws IOException {
                super.close();
                tar.close();
            }
        };
    }
}
