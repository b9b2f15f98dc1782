package org.unetmm.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import org.unetmm.ConcurrentEndpointUseException;

/**
 * Detects two threads inside one single-threaded side of an endpoint at once (a ring's producer
 * or its consumer). {@link #enter} claims the side for the calling thread with one
 * compare-and-exchange and {@link #exit()} gives it back with a release store, so a second thread
 * that arrives while the first is inside is seen, and refused by the caller before it touches the
 * ring. A thread may re-enter a side it holds (a poll handler that polls again).
 *
 * <p>Handing a side from one thread to another between calls is allowed (nothing is bound to a
 * thread for good): the contract is "one at a time", which is what the rings need.
 */
public final class ExclusiveUse {
    private static final VarHandle USER;

    static {
        try {
            USER = MethodHandles.lookup().findVarHandle(ExclusiveUse.class, "user", Thread.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * The one-thread-a-side check stays on; {@code -Dunetmm.endpoint.threadCheck=false} turns it off
     * only so that its cost can be measured ({@code EndpointThreadCheckBenchmark}).
     */
    private static final boolean CHECK_THREADS = !"false".equals(System.getProperty("unetmm.endpoint.threadCheck"));

    @SuppressWarnings("unused") // through USER
    private volatile Thread user;
    /** The side, in the words of the refusal. */
    private final String what;

    public ExclusiveUse(String what) {
        this.what = what;
    }

    /**
     * Takes the side for the calling thread, or refuses a second thread with
     * {@link ConcurrentEndpointUseException}; true when this call took it (then {@link #exit(boolean)}).
     */
    public boolean enter() {
        if (!CHECK_THREADS) {
            return false;
        }
        Thread me = Thread.currentThread();
        Thread inside = enter(me);
        if (inside == null) {
            return true;
        }
        if (inside == me) {
            return false;
        }
        throw new ConcurrentEndpointUseException("thread '" + me.getName() + "' used this endpoint's " + what
                + " while thread '" + inside.getName() + "' was inside it: each ring has one application thread at a"
                + " time. Give each thread its own endpoint, or pass the work to one thread; nothing was queued");
    }

    /** Gives the side back if {@link #enter()} took it. */
    public void exit(boolean entered) {
        if (entered) {
            exit();
        }
    }

    /**
     * Claims the side for {@code me}. Returns null when this call took it (call {@link #exit()}
     * after), {@code me} when {@code me} already held it (do not exit), or the other thread that is
     * inside now (refuse the call).
     */
    public Thread enter(Thread me) {
        return (Thread) USER.compareAndExchange(this, (Thread) null, me);
    }

    public void exit() {
        USER.setRelease(this, (Thread) null);
    }
}
