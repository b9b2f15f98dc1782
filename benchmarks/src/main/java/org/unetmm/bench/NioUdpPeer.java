package org.unetmm.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * Java NIO as a peer: two connected, non-blocking {@link DatagramChannel}s on one local host
 * (127.0.0.1 unless told), spinning on {@code read}/{@code write} (the fastest NIO gets: no
 * selector, no source address to build), with direct buffers (the kernel copies straight from and
 * to them) or heap buffers (NIO copies through a temporary direct buffer each way). Socket buffers
 * as unetmm's defaults (4 MiB). One message is one datagram, so at most {@link #LARGEST} bytes.
 */
final class NioUdpPeer implements UdpPeer {
    /** The largest UDP payload over IPv4: 65,535 − 20 (IP) − 8 (UDP) − up to 40 of IP options. */
    static final int LARGEST = 65_467;
    private final boolean direct;
    private final String host;
    private DatagramChannel a;
    private DatagramChannel b;
    private int largest;
    private int size;
    private long sequence = FIRST_SEQUENCE;

    NioUdpPeer(boolean direct) {
        this(direct, "127.0.0.1");
    }

    NioUdpPeer(boolean direct, String host) {
        this.direct = direct;
        this.host = host;
    }

    @Override
    public String name() {
        return direct ? "NIO direct" : "NIO heap";
    }

    private ByteBuffer buffer(int bytes) {
        return direct ? ByteBuffer.allocateDirect(bytes) : ByteBuffer.allocate(bytes);
    }

    @Override
    public void open(int messageSize) throws IOException {
        if (messageSize > LARGEST) {
            throw new IllegalArgumentException("a DatagramChannel message is one datagram, at most " + LARGEST
                    + " bytes; " + messageSize + " bytes needs a peer that fragments (unetmm, Aeron)");
        }
        size = messageSize;
        largest = Math.max(8, messageSize);
        a = channel();
        b = channel();
        a.connect(b.getLocalAddress());
        b.connect(a.getLocalAddress());
    }

    private DatagramChannel channel() throws IOException {
        DatagramChannel channel = DatagramChannel.open();
        channel.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
        channel.setOption(StandardSocketOptions.SO_SNDBUF, 4 << 20);
        channel.bind(new InetSocketAddress(host, 0));
        channel.configureBlocking(false);
        return channel;
    }

    @Override
    public long pingPong(Span warmup, Span measure, Histogram rtt) throws Exception {
        ByteBuffer echo = buffer(largest);
        ByteBuffer out = buffer(Math.max(1, size));
        ByteBuffer in = buffer(largest);
        try (Side side = new Side("nio-echo", () -> {
            echo.clear();
            if (b.read(echo) > 0) {
                echo.flip();
                while (b.write(echo) == 0) {
                    Thread.onSpinWait();
                }
            }
        })) {
            return UdpPeer.roundTrips(warmup, measure, rtt, () -> {
                long sequence = ++this.sequence;
                if (size >= 8) {
                    out.putLong(0, sequence);
                }
                long start = System.nanoTime();
                out.clear().limit(size);
                while (a.write(out) == 0) {
                    Thread.onSpinWait();
                }
                while (true) {
                    in.clear();
                    if (a.read(in) > 0 && (size < 8 || in.getLong(0) == sequence)) {
                        return System.nanoTime() - start; // an earlier, late answer is read and passed over
                    }
                    if (System.nanoTime() - start > UdpPeer.lossTimeoutNanos(size)) {
                        return -1;
                    }
                    side.check();
                }
            });
        }
    }

    @Override
    public StreamResult stream(long warmupMillis, long millis) throws IOException {
        ByteBuffer target = buffer(largest);
        ByteBuffer ack = buffer(8);
        AtomicLong received = new AtomicLong();
        Window window = Window.forSize(size);
        int ackEvery = window.ackEvery();
        try (Side side = new Side("nio-receiver", () -> {
            target.clear();
            if (b.read(target) > 0) {
                long count = received.get() + 1;
                received.lazySet(count);
                if (count % ackEvery == 0) {
                    ack.clear();
                    ack.putLong(0, count);
                    b.write(ack);
                }
            }
        })) {
            ByteBuffer source = buffer(size);
            ByteBuffer acks = buffer(8);
            long start = System.nanoTime() + warmupMillis * 1_000_000L;
            long end = start + millis * 1_000_000L;
            long atStart = -1;
            long startedAt = 0;
            long now;
            while ((now = System.nanoTime()) - end < 0) {
                if (atStart < 0 && now - start >= 0) {
                    atStart = received.get();
                    startedAt = now;
                }
                if (window.mayPush()) {
                    source.clear();
                    if (a.write(source) > 0) {
                        window.pushed();
                    }
                }
                acks.clear();
                if (a.read(acks) == 8) {
                    window.acknowledged(acks.getLong(0));
                }
                side.check();
            }
            if (atStart < 0) { // the measured phase was never reached (a pause longer than it)
                return new StreamResult(0, millis / 1e3, window.stalls, Double.NaN, Double.NaN);
            }
            long delivered = received.get() - atStart;
            return new StreamResult(delivered, (System.nanoTime() - startedAt) / 1e9, window.stalls, Double.NaN, Double.NaN);
        }
    }

    @Override
    public void close() {
        try {
            if (a != null) {
                a.close();
                b.close();
            }
        } catch (IOException e) {
            throw new IllegalStateException("closing NIO channels: " + e.getMessage(), e);
        } finally {
            a = null;
            b = null;
        }
    }
}
