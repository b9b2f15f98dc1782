package org.unetmm.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The time of the current progress pass, shared by every NIC of the process, as Aeron's cached
 * clocks are: {@link #tick()} reads {@link System#nanoTime()} once at the start of a pass, and
 * whatever that pass does — transmit, and (loopback) deliver straight into another NIC, or (udp)
 * take arrivals in its poll — reads {@link #now()} instead of the system clock again. A read is
 * one opaque load; a frame costs no clock read of its own.
 *
 * <p>Every arrival is taken inside some NIC's pass (the sender's on loopback, the receiver's on
 * udp), so {@link #now()} is at most one pass old there. Under several NIC threads a reader may see
 * another thread's slightly older tick: round-trip samples and deadlines are off by that much
 * (microseconds), against timeouts of hundreds of microseconds at least.
 */
public final class EngineClock {
    private static final VarHandle NOW;
    private static long now = System.nanoTime();

    static {
        try {
            NOW = MethodHandles.lookup().findStaticVarHandle(EngineClock.class, "now", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private EngineClock() {
    }

    /** Reads the system clock for a new pass and publishes it. */
    public static long tick() {
        long t = System.nanoTime();
        NOW.setOpaque(t);
        return t;
    }

    /** The time of the latest pass. */
    public static long now() {
        return (long) NOW.getOpaque();
    }
}
