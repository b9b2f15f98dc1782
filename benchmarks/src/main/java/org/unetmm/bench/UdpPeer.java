package org.unetmm.bench;

import org.HdrHistogram.Histogram;

/**
 * One way of moving datagrams between two threads of this process over UDP, measured by
 * {@code unetmm pingpong compare} and {@code unetmm compare --transport udp://…}: the calling
 * thread is the client (ping-pong) or the sender (stream); each measurement starts the other end
 * on a thread of its own and stops it before it returns, so peers never compete for the cores
 * while another is measured.
 *
 * <p>UDP may drop. A round trip not answered within {@link #lossTimeoutNanos} is counted lost and
 * the next one sent (late answers are told apart by a sequence number in the first 8 bytes, where
 * the message has them, from {@link #FIRST_SEQUENCE} on); a stream's {@link Window} reopens after
 * a stall, and only what arrived is counted.
 */
interface UdpPeer extends AutoCloseable {
    /** The part of {@link #lossTimeoutNanos} that does not grow with the message. */
    long LOSS_TIMEOUT_NANOS = 200_000_000L;

    /**
     * When a round trip of {@code size} bytes counts as lost: 200 ms plus 250 ns a byte (4 MB/s),
     * far above any wire here, and above a message whose pages must be pinned one by one because
     * they exceed the pin budget (4 MiB under the usual 8 MiB RLIMIT_MEMLOCK).
     */
    static long lossTimeoutNanos(int size) {
        return LOSS_TIMEOUT_NANOS + 250L * size;
    }

    /** The row label. */
    String name();

    /**
     * Opens sockets (and whatever else the peer needs: buffers, windows, terms, TLB) for messages of
     * {@code size} bytes; the measurements until {@link #close} send messages of that size.
     */
    void open(int size) throws Exception;

    /**
     * Round trips, one in flight: a {@code warmup} phase, then a measured one whose RTTs (ns) go to
     * {@code rtt}. Returns the measured round trips that were lost.
     */
    long pingPong(Span warmup, Span measure, Histogram rtt) throws Exception;

    /** Streams messages one way for {@code millis} after a warm-up; what was delivered while measured. */
    StreamResult stream(long warmupMillis, long millis) throws Exception;

    /** Closes what {@link #open} opened; a peer may be opened again after. */
    @Override
    void close();

    /** A phase of a measurement: it ends after {@code count} operations or {@code nanos}, whichever comes first. */
    record Span(long count, long nanos) {
        static Span rounds(long count) {
            return new Span(count, Long.MAX_VALUE);
        }

        static Span millis(long millis) {
            return new Span(Long.MAX_VALUE, millis * 1_000_000L);
        }

        boolean more(long done, long startNanos) {
            return done < count && System.nanoTime() - startNanos < nanos;
        }
    }

    /**
     * What a stream delivered while it was measured.
     *
     * @param messages       messages that arrived whole
     * @param seconds        the measured time
     * @param stalls         times the window stalled and was reopened (lost messages or acknowledgements)
     * @param tlbHitRate     TLB hits ÷ lookups of both NICs (NaN for peers without a NIC)
     * @param pinsPerMessage mlock calls of both NICs per delivered message (NaN without a NIC)
     */
    record StreamResult(long messages, double seconds, long stalls, double tlbHitRate, double pinsPerMessage) {
        double bytesPerSecond(int size) {
            return messages * (double) size / seconds;
        }
    }

    /**
     * Where ping-pong sequence numbers start: far above any acknowledgement count and unlike the
     * zeros of a stream's messages, so nothing left over from a stream passes for an answer.
     */
    long FIRST_SEQUENCE = 1L << 62;

    /** One round trip: its RTT in ns, or -1 when no answer came back in {@link #lossTimeoutNanos}. */
    interface RoundTrip {
        long run() throws Exception;
    }

    /** Runs the warm-up and the measured phase of a ping-pong; returns the measured round trips lost. */
    static long roundTrips(Span warmup, Span measure, Histogram rtt, RoundTrip trip) throws Exception {
        long lost = 0;
        for (Span span : new Span[] {warmup, measure}) {
            boolean measured = span == measure;
            long start = System.nanoTime();
            for (long done = 0; span.more(done, start); done++) {
                long nanos = trip.run();
                if (nanos < 0) {
                    lost += measured ? 1 : 0;
                } else if (measured) {
                    rtt.recordValue(nanos);
                }
            }
        }
        return lost;
    }

    /**
     * Receive buffers a stream's sender posts for acknowledgements ({@link AckBuffers}): with a
     * single one, the second of two arriving in one round was dropped as {@code NO_BUFFER}, a few
     * a second at 64 B, and counted among the NIC's drops.
     */
    int ACK_BUFFERS = 4;

    /** Stream flow control for the wires without their own (unetmm and NIO over plain UDP). */
    final class Window {
        /**
         * Messages in flight at most: 256 (a window of 32 held 64 B streams to one window per round
         * trip, a seventh of what the wire moves), more for small ones ({@link #messagesFor}), and
         * never more than {@link #BYTES}.
         */
        static final int MESSAGES = 256;
        /**
         * Messages smaller than 512 B may have up to this many in flight: as many as fill
         * {@link #SMALL_BYTES}. With 256, a 64 B stream across two processes over {@code shm:} often
         * fell into lockstep, sender and receiver taking turns: in 6 alternated runs, 2 ran at
         * 10.1 M msgs/s and 4 at 4.7-6.5 M; with 2,048 all 6 ran at 8.8-10.6 M (Aeron IPC beside
         * them 10.8-12.9 M). Over udp it is level. From 512 B up nothing changes: 4 KiB streams over
         * shm ran 10-20 % slower with 2,048 in flight.
         */
        static final int MOST_MESSAGES = 2048;
        /** Bytes of small messages in flight: 128 KiB, Aeron's default receiver window. */
        static final int SMALL_BYTES = 128 << 10;
        /**
         * The receiver acknowledges every this many messages (the count so far, 8 bytes) at most,
         * and at least every quarter window.
         */
        static final int ACK_EVERY = 64;
        /** Bytes in flight at most (32 x 64 KiB = 2 MiB, well inside a 4 MiB receive buffer): fewer, larger messages, down to one. */
        static final int BYTES = 32 << 16;
        /** No acknowledgement for this long with the window full: assume loss and open the window again. */
        static final long STALL_NANOS = 20_000_000L;

        private final int messages;
        private final int ackEvery;
        /** {@link #STALL_NANOS}, or 25 ns a byte of one message where that is longer (from 800 KB up). */
        private final long stallNanos;
        private long sent;
        private long acked;
        private long forgiven;
        private long lastProgress = System.nanoTime();
        long stalls;

        private Window(int messages, int ackEvery, long stallNanos) {
            this.messages = messages;
            this.ackEvery = ackEvery;
            this.stallNanos = stallNanos;
        }

        /** The window for {@code size}-byte messages: {@link #messagesFor}, or as many as fit {@link #BYTES}, at least one. */
        static Window forSize(int size) {
            return forSize(size, MOST_MESSAGES);
        }

        /** As {@link #forSize(int)}, at most {@code atMost} messages (the receive buffers the peer could post). */
        static Window forSize(int size, int atMost) {
            return of((int) Math.max(1, Math.min(Math.min(messagesFor(size), atMost), BYTES / Math.max(1L, size))), size);
        }

        /**
         * Messages in flight at most for {@code size}-byte messages, before {@link #BYTES}: {@link #MESSAGES},
         * or for small ones as many as fill {@link #SMALL_BYTES}, at most {@link #MOST_MESSAGES}.
         */
        static int messagesFor(int size) {
            return (int) Math.min(MOST_MESSAGES, Math.max(MESSAGES, SMALL_BYTES / Math.max(1L, size)));
        }

        /**
         * A window of exactly {@code messages} (at least one) {@code size}-byte messages, acknowledged every
         * quarter window or {@link #ACK_EVERY} messages, whichever is fewer: planned elsewhere
         * ({@link ShmStreamPlan}), or what a receiver that said what it
         * holds allows ({@code unetmm stream}).
         */
        static Window of(int messages, int size) {
            int m = Math.max(1, messages);
            return new Window(m, Math.max(1, Math.min(ACK_EVERY, m / 4)), Math.max(STALL_NANOS, 25L * size));
        }

        /** Messages pushed and neither acknowledged nor forgiven after a stall: never above {@link #messages()}. */
        long outstanding() {
            return sent - Math.max(acked, forgiven);
        }

        int messages() {
            return messages;
        }

        /** The receiver acknowledges every this many messages. */
        int ackEvery() {
            return ackEvery;
        }

        long stallNanos() {
            return stallNanos;
        }

        boolean mayPush() {
            if (outstanding() < messages) {
                return true;
            }
            if (System.nanoTime() - lastProgress > stallNanos) {
                forgiven = sent;
                lastProgress = System.nanoTime();
                stalls++;
                return true;
            }
            return false;
        }

        void pushed() {
            sent++;
        }

        void acknowledged(long count) {
            if (count > acked) {
                acked = count;
                lastProgress = System.nanoTime();
            }
        }
    }

    /** Runs {@code body} on a thread until {@link #close()}, which stops and joins it; its failure is rethrown. */
    final class Side implements AutoCloseable {
        private final Thread thread;
        private volatile boolean running = true;
        private volatile Throwable failure;

        interface Body {
            /** One step of work; called until the side stops. */
            void step() throws Exception;
        }

        Side(String name, Body body) {
            thread = new Thread(() -> {
                try {
                    while (running) {
                        body.step();
                    }
                } catch (Throwable t) {
                    failure = t;
                }
            }, name);
            thread.setDaemon(true);
            thread.start();
        }

        void check() {
            if (failure != null) {
                throw new IllegalStateException("the other side failed: " + failure, failure);
            }
        }

        @Override
        public void close() {
            running = false;
            try {
                thread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            check();
        }
    }
}
