package io.berth.storage.testsuite;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/** Prints the test's directory tree when a test fails, so the state a driver left is in the report. */
final class TreeDumpOnFailure implements TestWatcher {

    private static final int MAX_LINES = 400;
    private final Supplier<Path> root;

    TreeDumpOnFailure(Supplier<Path> root) {
        this.root = root;
    }

    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
        Path dir = root.get();
        StringBuilder dump = new StringBuilder("--- tree of " + dir + " after " + context.getDisplayName() + "\n");
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.limit(MAX_LINES).forEach(path -> dump.append(describe(path)).append('\n'));
        } catch (IOException | RuntimeException e) {
            dump.append("(cannot walk: ").append(e).append(")\n");
        }
        System.err.print(dump);
    }

    private static String describe(Path path) {
        try {
            var attrs = Files.readAttributes(path, "unix:mode,uid,gid,size", LinkOption.NOFOLLOW_LINKS);
            String link = Files.isSymbolicLink(path) ? " -> " + Files.readSymbolicLink(path) : "";
            return String.format("%7o %5s:%-5s %10s %s%s", attrs.get("mode"), attrs.get("uid"), attrs.get("gid"),
                    attrs.get("size"), path, link);
        } catch (IOException e) {
            return path + " (" + e.getMessage() + ")";
        }
    }
}
