package org.unetmm.bench;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.FrameDescriptor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.agrona.CloseHelper;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Aeron over UDP as a peer: an embedded media driver (shared threading: one driver thread, the
 * fewest on a small machine; its directory under /dev/shm, deleted when the peer closes), one
 * unicast publication and subscription per direction, every socket bound to one local host
 * (127.0.0.1 unless told), MTU 65504 (Aeron's largest; a 64 KiB-class message is one frame), 4 MiB
 * socket buffers. Larger messages Aeron fragments itself: the term is sized so a message fits (its
 * largest is an eighth of the term: 16 MiB terms up to 2 MiB, 32 MiB for 4 MiB) and the receiver
 * window, and the receive socket buffer asked for with it, holds two of them where
 * {@code net.core.rmem_max} lets the socket have that much (4 MiB at least, as unetmm's socket
 * buffers; a message larger than the window flows in parts, as Aeron's flow control allows). The subscriber copies each
 * fragment out of the log buffer straight to its offset in the application's buffer (no
 * reassembly buffer). The driver and the application threads share the cores, so they wait with
 * {@code idle} (the driver's {@code sharedIdleStrategy} and the application's polling loops).
 */
final class AeronUdpPeer implements UdpPeer {
    private static final int PING_STREAM = 1001;
    private static final int PONG_STREAM = 1002;
    private final java.util.function.Supplier<IdleStrategy> idle;
    private final String idleName;
    private final String host;
    private int size;
    private long sequence = FIRST_SEQUENCE;
    private MediaDriver driver;
    private Aeron aeron;
    private ExclusivePublication ping;
    private Subscription pingIn;
    private ExclusivePublication pong;
    private Subscription pongIn;

    AeronUdpPeer(String idleName, java.util.function.Supplier<IdleStrategy> idle) {
        this(idleName, idle, "127.0.0.1");
    }

    AeronUdpPeer(String idleName, java.util.function.Supplier<IdleStrategy> idle, String host) {
        this.idleName = idleName;
        this.idle = idle;
        this.host = host;
    }

    @Override
    public String name() {
        return "Aeron UDP";
    }

    String idleName() {
        return idleName;
    }

    /** The term length for {@code size}-byte messages: 16 MiB, or larger until a message is at most an eighth of it. */
    static int termLength(int size) {
        int term = 16 << 20;
        while (term / 8 < size) {
            term <<= 1;
        }
        return term;
    }

    @Override
    public void open(int messageSize) throws IOException {
        size = Math.max(1, messageSize);
        int term = termLength(size);
        long twoMessages = Long.highestOneBit(2L * size - 1) << 1;
        int window = (int) Math.min(term / 2, Math.max(4L << 20, Math.min(twoMessages, receiveBufferLimit())));
        Path dir = Files.createTempDirectory(Path.of(Files.isDirectory(Path.of("/dev/shm")) ? "/dev/shm" : "/tmp"), "unetmm-aeron-udp-");
        driver = MediaDriver.launchEmbedded(new MediaDriver.Context()
                .aeronDirectoryName(dir.toString())
                .threadingMode(ThreadingMode.SHARED)
                .sharedIdleStrategy(idle.get())
                .socketRcvbufLength(window) // Aeron refuses a window larger than the receive buffer asked for
                .socketSndbufLength(4 << 20)
                .initialWindowLength(window)
                .dirDeleteOnStart(true)
                .dirDeleteOnShutdown(true));
        try {
            connect(term);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private void connect(int term) {
        aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(driver.aeronDirectoryName()));
        int pingPort = freePort(host);
        int pongPort = freePort(host);
        String options = "|interface=" + host + "|mtu=65504|term-length=" + term;
        ping = aeron.addExclusivePublication("aeron:udp?endpoint=" + host + ":" + pingPort + options, PING_STREAM);
        pingIn = aeron.addSubscription("aeron:udp?endpoint=" + host + ":" + pingPort, PING_STREAM);
        pong = aeron.addExclusivePublication("aeron:udp?endpoint=" + host + ":" + pongPort + options, PONG_STREAM);
        pongIn = aeron.addSubscription("aeron:udp?endpoint=" + host + ":" + pongPort, PONG_STREAM);
        long deadline = System.nanoTime() + 10_000_000_000L;
        IdleStrategy waiting = idle.get();
        while (!ping.isConnected() || !pong.isConnected()) {
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("Aeron UDP publications did not connect in 10 s");
            }
            waiting.idle();
        }
    }

    /** net.core.rmem_max: the most SO_RCVBUF an unprivileged setsockopt gets (Aeron does not force it). */
    private static long receiveBufferLimit() {
        try {
            return Long.parseLong(RunRecord.sysctl("net/core/rmem_max"));
        } catch (NumberFormatException e) {
            return Long.MAX_VALUE;
        }
    }

    private static int freePort(String host) {
        try (DatagramSocket probe = new DatagramSocket(new InetSocketAddress(host, 0))) {
            return probe.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free UDP port on " + host, e);
        }
    }

    private static void offer(Publication publication, UnsafeBuffer buffer, int length, IdleStrategy idle) {
        long result;
        while ((result = publication.offer(buffer, 0, length)) < 0) {
            if (result == Publication.CLOSED || result == Publication.MAX_POSITION_EXCEEDED) {
                throw new IllegalStateException("Aeron offer failed: " + Publication.errorString(result));
            }
            idle.idle();
        }
    }

    /** Copies each fragment to its offset in {@code target}; {@code whole} runs with the length once the last is in. */
    private static FragmentHandler assembling(UnsafeBuffer target, java.util.function.IntConsumer whole) {
        int[] at = new int[1];
        return (buffer, offset, length, header) -> {
            if ((header.flags() & FrameDescriptor.BEGIN_FRAG_FLAG) != 0) {
                at[0] = 0;
            }
            buffer.getBytes(offset, target, at[0], length);
            at[0] += length;
            if ((header.flags() & FrameDescriptor.END_FRAG_FLAG) != 0) {
                whole.accept(at[0]);
            }
        };
    }

    @Override
    public long pingPong(Span warmup, Span measure, Histogram rtt) throws Exception {
        UnsafeBuffer echo = new UnsafeBuffer(ByteBuffer.allocateDirect(size));
        IdleStrategy echoIdle = idle.get();
        FragmentHandler bounce = assembling(echo, length -> offer(pong, echo, length, echoIdle));
        UnsafeBuffer out = new UnsafeBuffer(ByteBuffer.allocateDirect(size));
        UnsafeBuffer in = new UnsafeBuffer(ByteBuffer.allocateDirect(size));
        boolean[] answered = new boolean[1];
        long[] expected = new long[1];
        FragmentHandler back = assembling(in, length -> answered[0] |= size < 8 || in.getLong(0) == expected[0]);
        IdleStrategy clientIdle = idle.get();
        try (Side side = new Side("aeron-echo", () -> echoIdle.idle(pingIn.poll(bounce, 16)))) {
            return UdpPeer.roundTrips(warmup, measure, rtt, () -> {
                expected[0] = ++sequence;
                if (size >= 8) {
                    out.putLong(0, expected[0]);
                }
                answered[0] = false;
                long start = System.nanoTime();
                offer(ping, out, size, clientIdle);
                while (!answered[0]) {
                    clientIdle.idle(pongIn.poll(back, 16));
                    side.check();
                    if (System.nanoTime() - start > UdpPeer.lossTimeoutNanos(size)) {
                        return -1;
                    }
                }
                return System.nanoTime() - start;
            });
        }
    }

    @Override
    public StreamResult stream(long warmupMillis, long millis) {
        UnsafeBuffer target = new UnsafeBuffer(ByteBuffer.allocateDirect(size));
        AtomicLong received = new AtomicLong();
        FragmentHandler copy = assembling(target, length -> received.lazySet(received.get() + 1));
        IdleStrategy receiverIdle = idle.get();
        try (Side side = new Side("aeron-receiver", () -> receiverIdle.idle(pingIn.poll(copy, 64)))) {
            UnsafeBuffer source = new UnsafeBuffer(ByteBuffer.allocateDirect(size));
            IdleStrategy senderIdle = idle.get();
            long start = System.nanoTime() + warmupMillis * 1_000_000L;
            long end = start + millis * 1_000_000L;
            long atStart = -1;
            long startedAt = start;
            long now;
            while ((now = System.nanoTime()) - end < 0) {
                if (atStart < 0 && now - start >= 0) {
                    atStart = received.get();
                    startedAt = now;
                }
                long result = ping.offer(source, 0, size);
                if (result == Publication.CLOSED || result == Publication.MAX_POSITION_EXCEEDED) {
                    throw new IllegalStateException("Aeron offer failed: " + Publication.errorString(result));
                }
                senderIdle.idle(result > 0 ? 1 : 0);
                side.check();
            }
            long delivered = atStart < 0 ? 0 : received.get() - atStart;
            return new StreamResult(delivered, atStart < 0 ? millis / 1e3 : (System.nanoTime() - startedAt) / 1e9, 0,
                    Double.NaN, Double.NaN);
        }
    }

    @Override
    public void close() {
        try {
            CloseHelper.closeAll(ping, pong, pingIn, pongIn, aeron, driver);
        } finally {
            ping = null;
            pong = null;
            pingIn = null;
            pongIn = null;
            aeron = null;
            driver = null;
        }
    }
}
