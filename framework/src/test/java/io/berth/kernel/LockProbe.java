package io.berth.kernel;

import java.nio.file.Path;

/**
 * Run by {@link DataRootLockTest} in a second JVM: takes the lock on the given
 * data-root, prints "locked" and exits 0, or prints the refusal and exits 3.
 * With "hold" as second argument it keeps the lock until killed.
 */
public final class LockProbe {

    public static void main(String[] args) throws Exception {
        try (DataRootLock lock = DataRootLock.acquire(Path.of(args[0]))) {
            System.out.println("locked");
            System.out.flush();
            if (args.length > 1 && args[1].equals("hold")) {
                Thread.sleep(Long.MAX_VALUE);
            }
        } catch (UsageException e) {
            System.out.println(e.getMessage());
            System.exit(3);
        }
    }
}
