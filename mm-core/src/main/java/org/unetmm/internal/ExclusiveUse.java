package org.unetmm.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

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

    @SuppressWarnings("unused") // through USER
    private volatile Thread user;

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
