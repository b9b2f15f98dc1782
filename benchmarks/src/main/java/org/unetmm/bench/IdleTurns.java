package org.unetmm.bench;

/**
 * How the loops of a cross-process measurement wait, in both processes, the same for every peer
 * (unetmm, Aeron; the in-JVM udp compare keeps its own waiting). A
 * turn that did nothing is followed by the next at once for {@value #SPINS} turns (a reply that
 * comes within some microseconds is met by a spinning loop), then by a {@link Thread#yield()},
 * which hands the core to a runnable thread, if there is one, and costs a system call otherwise.
 *
 * <p>On two cores shared with other work, a side that spins while it waits (a sender waiting for
 * its peer to read the pages it posted) takes half of the time the working side needed: a
 * one-copy path, whose receiver does all the copying, then measured no faster than a two-copy
 * one, whose copies run on both sides. Nothing parks: a park sleeps for the timer slack (50 us)
 * at least, longer than a small message's round trip.
 */
final class IdleTurns {
    static final int SPINS = 100;
    private int idle;

    /** After a turn that did {@code work} (0: nothing). */
    void after(int work) {
        if (work > 0) {
            idle = 0;
        } else if (++idle > SPINS) {
            Thread.yield();
        }
    }
}
