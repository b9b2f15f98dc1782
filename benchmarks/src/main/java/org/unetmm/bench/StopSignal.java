package org.unetmm.bench;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A long-running command's Ctrl-C: a shutdown hook that asks the command's loop to stop and waits
 * (at most 5 s) for it to close its NIC, so the process exits with everything unpinned and a last
 * line printed. {@link #close()} when the loop has ended.
 */
final class StopSignal implements AutoCloseable {
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final Thread hook;
    private volatile boolean requested;

    StopSignal(String name) {
        this.hook = new Thread(() -> {
            requested = true;
            try {
                stopped.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, name);
        Runtime.getRuntime().addShutdownHook(hook);
    }

    boolean requested() {
        return requested;
    }

    @Override
    public void close() {
        stopped.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // already shutting down: the hook is running and has been released
        }
    }
}
