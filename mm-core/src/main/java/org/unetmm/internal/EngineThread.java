package org.unetmm.internal;

import java.util.concurrent.locks.LockSupport;
import org.unetmm.IdleStrategy;

/**
 * The NIC's own thread (progress mode NIC_THREAD): progress rounds, with the configured
 * {@link IdleStrategy} between idle ones. A fault in the engine or a wire is reported and the
 * thread goes on with its next round: the NIC never loses its thread to one bad frame or handler.
 */
final class EngineThread {
    private final Engine engine;
    private final IdleStrategy idle;
    private final Thread thread;
    private volatile boolean running = true;
    /** Set while the thread may park: only then does a sender pay for an unpark. */
    private volatile boolean parked;

    EngineThread(Engine engine, IdleStrategy idle, String name) {
        this.engine = engine;
        this.idle = idle;
        this.thread = new Thread(this::run, name);
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        while (running) {
            int work;
            try {
                work = engine.progress();
            } catch (Throwable t) {
                engine.reportFault(t);
                work = 1;
            }
            if (work > 0) {
                idle.reset();
            } else {
                parked = idle.mayPark();
                idle.idle(0);
                parked = false;
            }
        }
    }

    void wake() {
        if (parked) {
            LockSupport.unpark(thread);
        }
    }

    /** Stops the thread and waits for it (up to 10 s); from the thread itself (a handler closing the NIC) it does not wait. */
    void stop() {
        running = false;
        if (thread != Thread.currentThread()) {
            LockSupport.unpark(thread);
            try {
                thread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
