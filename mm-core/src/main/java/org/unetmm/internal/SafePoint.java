package org.unetmm.internal;

/**
 * Work that must wait until the engine is between steps: the completion upcalls. The engine
 * never runs a handler in the middle of its own work (a handler may send, post or close anything),
 * so the handles queue upcalls and the engine {@link #deliver()}s them when it releases its
 * outermost hold of the engine lock. Implemented above the engine (the public {@code Nic}'s upcall queue).
 */
public interface SafePoint {
    /** Whether upcalls are waiting. */
    boolean isEmpty();

    /** Runs every waiting upcall, and those they cause; not re-entered. */
    void deliver();

    /** Reports a fault to the NIC's error handler (counted). */
    void report(Throwable error);
}
