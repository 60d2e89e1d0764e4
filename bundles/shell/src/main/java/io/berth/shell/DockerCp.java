package io.berth.shell;

import io.berth.spi.containers.ContainerService;
import io.berth.spi.containers.PathStat;
import io.berth.storage.archive.LayerTar;
import io.berth.storage.archive.WhiteoutFormat;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Comparator;
import java.util.NoSuchElementException;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * {@code docker cp}'s side of the work that the docker CLI does: which argument is in a container, and where on
 * this host a copy goes, by Docker's rules. The container's side (its paths, the tar of a path, extracting a tar
 * into a directory, refusing hostile tars) is the container service's.
 *
 * <p>The rules, for {@code SRC} copied to {@code DEST}: a file goes into {@code DEST} when that is an existing
 * directory, else becomes {@code DEST} (an existing file is overwritten; {@code DEST/} that does not exist is an
 * error); a directory goes into {@code DEST} when that is an existing directory ({@code SRC/.}: its content
 * does), else becomes {@code DEST}; a directory onto an existing file is an error. {@code -} is a tar on stdout
 * (from a container) or on stdin (into a directory of a container). Host copies are made in a temporary
 * directory beside {@code DEST} first, so a failed copy leaves nothing half-written at {@code DEST}.
 */
final class DockerCp {

    private final ContainerService containers;

    DockerCp(ContainerService containers) {
        this.containers = containers;
    }

    /** One side of a copy: a container's path, or this host's ({@code container} null). */
    record Location(String container, String path) {

        /** As the docker CLI splits it: {@code NAME:PATH} unless the argument is an absolute or relative local path. */
        static Location parse(String argument) {
            if (argument.isEmpty()) {
                throw new IllegalArgumentException("copy: path must not be empty");
            }
            int colon = argument.indexOf(':');
            boolean local = argument.startsWith("/") || argument.startsWith(".") || colon <= 0;
            if (local) {
                return new Location(null, argument);
            }
            String path = argument.substring(colon + 1);
            return new Location(argument.substring(0, colon), path.isEmpty() ? "." : path);
        }
    }

    void copy(String sourceArgument, String destinationArgument, boolean followLink, InputStream stdin,
              OutputStream stdout) throws IOException {
        Location source = Location.parse(sourceArgument);
        Location destination = Location.parse(destinationArgument);
        if (source.container() != null && destination.container() != null) {
            throw new IllegalArgumentException("copying between containers is not supported");
        }
        if (source.container() == null && destination.container() == null) {
            throw new IllegalArgumentException("must specify at least one container source");
        }
        if (source.container() != null) {
            fromContainer(source, destination.path(), followLink, stdout);
        } else {
            toContainer(source.path(), destination, followLink, stdin);
        }
    }

    // --- container -> host ------------------------------------------------------------------------------------

    private void fromContainer(Location source, String destination, boolean followLink, OutputStream stdout)
            throws IOException {
        String path = source.path();
        PathStat stat = containers.stat(source.container(), path);
        if (followLink && !stat.linkTarget().isEmpty()) {
            path = stat.linkTarget(); // -L: the link's target, resolved in the container
            stat = containers.stat(source.container(), path);
        }
        if (destination.equals("-")) {
            containers.copyFrom(source.container(), path, stdout);
            stdout.flush();
            return;
        }
        boolean sourceIsDirectory = (stat.mode() & (1L << 31)) != 0;
        boolean contentOnly = path.endsWith("/.") || path.equals(".");
        Path target = Path.of(destination).toAbsolutePath();
        boolean targetIsDirectory = Files.isDirectory(target);
        if (!targetIsDirectory && Files.exists(target, LinkOption.NOFOLLOW_LINKS) && sourceIsDirectory) {
            throw new IllegalArgumentException("cannot copy a directory to a file: " + destination);
        }
        if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS) && destination.endsWith("/") && !sourceIsDirectory) {
            throw new IllegalArgumentException("destination directory " + destination + " does not exist");
        }
        Path parent = targetIsDirectory ? target : target.getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            throw new IllegalArgumentException("destination directory " + (parent == null ? destination : parent)
                    + " does not exist");
        }
        Path scratch = Files.createTempDirectory(parent, ".berth-cp-");
        try {
            try (OutputStream tar = new BufferedOutputStream(Files.newOutputStream(scratch.resolve("tar")), 1 << 16)) {
                containers.copyFrom(source.container(), path, tar);
            }
            Path tree = Files.createDirectory(scratch.resolve("tree"));
            try (InputStream tar = new BufferedInputStream(Files.newInputStream(scratch.resolve("tar")), 1 << 16)) {
                LayerTar.extract(tar, tree, WhiteoutFormat.OCI); // the tar is the container's: treated as hostile
            }
            Path copied = tree.resolve(contentOnly ? "." : stat.name()).normalize();
            if (!targetIsDirectory) {
                Files.move(copied, target, StandardCopyOption.REPLACE_EXISTING); // becomes DEST
            } else if (contentOnly) {
                merge(copied, target);
            } else {
                merge(copied, target.resolve(stat.name()));
            }
        } finally {
            deleteTree(scratch);
        }
    }

    /** Moves {@code from} to {@code to}, into an existing directory there entry by entry; files are replaced. */
    private static void merge(Path from, Path to) throws IOException {
        if (!Files.exists(to, LinkOption.NOFOLLOW_LINKS)) {
            Files.move(from, to);
            return;
        }
        boolean fromDirectory = Files.isDirectory(from, LinkOption.NOFOLLOW_LINKS);
        boolean toDirectory = Files.isDirectory(to, LinkOption.NOFOLLOW_LINKS);
        if (fromDirectory && toDirectory) {
            try (DirectoryStream<Path> children = Files.newDirectoryStream(from)) {
                for (Path child : children) {
                    merge(child, to.resolve(child.getFileName().toString()));
                }
            }
        } else if (fromDirectory || toDirectory) {
            throw new IllegalArgumentException("cannot overwrite " + (toDirectory ? "directory " : "non-directory ")
                    + to + " with " + (fromDirectory ? "directory" : "non-directory"));
        } else {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }

    // --- host -> container ------------------------------------------------------------------------------------

    private void toContainer(String sourceArgument, Location destination, boolean followLink, InputStream stdin)
            throws IOException {
        if (sourceArgument.equals("-")) {
            containers.copyTo(destination.container(), destination.path(), stdin, true);
            return;
        }
        Path source = Path.of(sourceArgument).toAbsolutePath();
        LinkOption[] links = followLink ? new LinkOption[0] : new LinkOption[] {LinkOption.NOFOLLOW_LINKS};
        if (!Files.exists(source, links)) {
            throw new IllegalArgumentException("lstat " + sourceArgument + ": no such file or directory");
        }
        boolean sourceIsDirectory = Files.isDirectory(source, links);
        boolean contentOnly = sourceArgument.endsWith("/.") || sourceArgument.equals(".");
        PathStat target = statOrNull(destination);
        String extractInto;
        String name;
        if (target != null && (target.mode() & (1L << 31)) != 0) {
            extractInto = destination.path();
            name = contentOnly ? "." : source.getFileName().toString();
        } else if (target != null && sourceIsDirectory) {
            throw new IllegalArgumentException("cannot copy a directory to a file: " + destination.path());
        } else if (target == null && destination.path().endsWith("/")) {
            throw new IllegalArgumentException("destination directory " + destination.path()
                    + " does not exist in container " + destination.container());
        } else {
            // becomes DEST: the tar's top entry is named after it, extracted into its directory
            String path = destination.path();
            int slash = path.lastIndexOf('/');
            extractInto = slash < 0 ? "." : slash == 0 ? "/" : path.substring(0, slash);
            name = path.substring(slash + 1);
        }
        Path tar = Files.createTempFile("berth-cp-", ".tar");
        try {
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tar), 1 << 16)) {
                writeTar(followLink ? source.toRealPath() : source, name, out);
            }
            try (InputStream in = new BufferedInputStream(Files.newInputStream(tar), 1 << 16)) {
                containers.copyTo(destination.container(), extractInto, in, true);
            }
        } finally {
            Files.deleteIfExists(tar);
        }
    }

    private PathStat statOrNull(Location location) throws IOException {
        try {
            return containers.stat(location.container(), location.path());
        } catch (NoSuchElementException e) {
            if (e.getMessage() != null && e.getMessage().startsWith("No such container")) {
                throw e;
            }
            return null;
        }
    }

    /** A tar of a host file or tree with its top entry named {@code name} ({@code .}: the tree's content). */
    static void writeTar(Path source, String name, OutputStream out) throws IOException {
        TarArchiveOutputStream tar = new TarArchiveOutputStream(out);
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        Files.walkFileTree(source, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attributes) throws IOException {
                add(dir, attributes);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) throws IOException {
                add(file, attributes);
                return FileVisitResult.CONTINUE;
            }

            private void add(Path path, BasicFileAttributes attributes) throws IOException {
                String relative = source.relativize(path).toString();
                String entryName = relative.isEmpty() ? name : name.equals(".") ? relative : name + "/" + relative;
                if (entryName.equals(".")) {
                    return; // the content's own directory: it is DEST, which exists
                }
                if (!attributes.isDirectory() && !attributes.isRegularFile() && !attributes.isSymbolicLink()) {
                    return; // sockets, fifos, devices: docker cp does not carry them either
                }
                TarArchiveEntry entry = new TarArchiveEntry(path, entryName + (attributes.isDirectory() ? "/" : ""),
                        LinkOption.NOFOLLOW_LINKS);
                if (attributes.isSymbolicLink()) {
                    entry = new TarArchiveEntry(entryName, TarConstants.LF_SYMLINK);
                    entry.setLinkName(Files.readSymbolicLink(path).toString());
                    entry.setModTime(attributes.lastModifiedTime());
                }
                tar.putArchiveEntry(entry);
                if (attributes.isRegularFile()) {
                    Files.copy(path, tar);
                }
                tar.closeArchiveEntry();
            }
        });
        tar.finish();
    }
}
