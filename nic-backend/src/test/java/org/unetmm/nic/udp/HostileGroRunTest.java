package org.unetmm.nic.udp;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.unetmm.Channel;
import org.unetmm.ChannelAddress;
import org.unetmm.Completion;
import org.unetmm.CompletionStatus;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
import org.unetmm.SendPath;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.internal.Libc;
import org.unetmm.spi.FrameHeader;

/**
 * Hand-crafted GSO super-datagrams (a raw socket's {@code sendmsg} with a {@code UDP_SEGMENT}
 * cmsg), which a GRO receiver gets whole with their segment size and a receiver without GRO gets
 * cut by the kernel: segments whose headers lie about their lengths (claiming bytes of the next
 * segment, or a short last segment claiming a full one, or a coalesced frame straddling the cut)
 * are dropped and counted, the same with GRO on and off and on both receive paths; the honest
 * segments around them are delivered byte-exact; nothing is written outside the posted slices
 * (PROT_NONE guard pages at both ends of the allocation, canaries between the slices); ordinary
 * traffic, a GSO'd 256 KiB message among it, works afterwards.
 */
@Timeout(60)
class HostileGroRunTest {
    private static final int SLICE = 4096;
    private static final int SLICES = 8;
    private static final byte CANARY = (byte) 0x3C;
    private static final int PEER_TAG = 7;
    private static final long PEER_CONNECTION = 0x5EED_CAFE_F00D_0007L;
    /** Segments of every run: a header and 100 payload bytes. */
    private static final int SEGMENT = WireFrame.HEADER_LENGTH + 100;

    /** messages=1: a poll stops inside the run after each message, and the next goes on from there. */
    @ParameterizedTest(name = "gro={0} copybreak={1} messages={2}")
    @CsvSource({"true,0,8", "true,4096,8", "false,0,8", "false,4096,8", "true,0,1", "true,4096,1"})
    void segmentsThatLieAboutTheirLengthsAreDroppedAndTheRestDelivered(boolean gro, int copyBreak, int messages) {
        long seed = Long.getLong("unetmm.test.seed", System.nanoTime());
        String why = "seed " + seed + ", gro=" + gro + " copybreak=" + copyBreak + " messages=" + messages;
        Random random = new Random(seed);
        NativeBuffer guarded = NativeMemory.allocate(SLICES * SLICE, true);
        ByteBuffer memory = guarded.buffer();
        for (int i = 0; i < SLICES * SLICE; i++) {
            memory.put(i, CANARY);
        }
        try (GsoSender attacker = new GsoSender();
             Nic nic = Nic.open(NicConfig.builder().transport("udp://127.0.0.1:0?gro=" + gro + "&copybreak=" + copyBreak
                     + "&messages=" + messages)
                     .progressMode(ProgressMode.CALLER).build());
             Nic friend = Nic.open(NicConfig.builder().transport("udp://127.0.0.1:0").mtu(1400)
                     .progressMode(ProgressMode.CALLER).build())) {
            Endpoint victim = nic.openEndpoint(EndpointConfig.builder().segmentBytes(0).build());
            Channel channel = victim.openChannel().connect(
                    new ChannelAddress("udp://127.0.0.1:" + attacker.port(), PEER_TAG, PEER_CONNECTION));
            UdpTransport wire = UdpTransport.of(nic);
            for (int s = 1; s < SLICES; s += 2) {
                assertThat(victim.postReceive(memory, s * SLICE, SLICE, s).isPosted()).isTrue();
            }
            Runs runs = new Runs(random, channel.tag(), channel.address().connection());
            Map<Integer, ByteBuffer> expected = new HashMap<>();
            // run A: four segments of message 1 (250 B); the second claims 172 payload bytes, reaching into the third
            ByteBuffer message1 = runs.payload(250);
            expected.put(250, message1);
            ByteBuffer a = runs.start();
            runs.frame(a, 1, 250, 0, 100, message1, 0, 100, false);
            runs.frame(a, 1, 250, 50, 172, message1, 50, 100, false);
            runs.frame(a, 1, 250, 100, 100, message1, 100, 100, false);
            runs.frame(a, 1, 250, 200, 50, message1, 200, 50, false); // the short last segment: honest
            attacker.send(a, wire.boundAddress());
            // run B: a whole message 2 (100 B), then a short last segment claiming 100 payload bytes and holding 30
            ByteBuffer message2 = runs.payload(100);
            expected.put(100, message2);
            ByteBuffer b = runs.start();
            runs.frame(b, 2, 100, 0, 100, message2, 0, 100, false);
            runs.frame(b, 3, 100, 0, 100, runs.payload(100), 0, 30, false);
            attacker.send(b, wire.boundAddress());
            // run C: a coalesced segment whose second frame claims 100 bytes across the cut, then message 5 (60 B)
            ByteBuffer message4 = runs.payload(20);
            ByteBuffer message5 = runs.payload(60);
            expected.put(20, message4);
            expected.put(60, message5);
            ByteBuffer c = runs.start();
            runs.frame(c, 4, 20, 0, 20, message4, 0, 20, true);
            runs.frame(c, 6, 100, 0, 100, runs.payload(100), 0, SEGMENT - 2 * WireFrame.HEADER_LENGTH - 20, false);
            runs.frame(c, 5, 60, 0, 60, message5, 0, 60, false);
            attacker.send(c, wire.boundAddress());

            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (!expected.isEmpty()) {
                assertThat(System.nanoTime() - deadline).as("the honest messages arrive (" + why + "); " + wire.stats()).isNegative();
                nic.progress();
                for (Completion r; (r = victim.poll()) != null; ) {
                    assertThat(r.status()).as(why).isEqualTo(CompletionStatus.OK);
                    ByteBuffer want = expected.remove(r.length());
                    assertThat(want).as("a message of " + r.length() + " B was sent once (" + why + ")").isNotNull();
                    assertThat(memory.slice(r.offset(), r.length())).as("byte-exact, " + r.length() + " B; " + why)
                            .isEqualTo(want.slice(0, r.length()));
                }
            }
            UdpStats stats = wire.stats();
            String report = why + "; " + stats;
            long deadline2 = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (wire.stats().dropped() < 3) { // the last lying segment may still be queued
                assertThat(System.nanoTime() - deadline2).as(report).isNegative();
                nic.progress();
                stats = wire.stats();
            }
            report = why + "; " + stats;
            assertThat(stats.drops(WireDropReason.LENGTH_MISMATCH)).as("three lying segments; " + report).isEqualTo(3);
            assertThat(stats.dropped()).as(report).isEqualTo(3);
            assertThat(stats.datagramsReceived()).as("every segment counts as a datagram; " + report).isEqualTo(4 + 2 + 2);
            assertThat(stats.groRuns()).as(report).isEqualTo(gro ? 3 : 0);
            assertCanaries(memory, why);

            // ordinary traffic afterwards, a GSO'd 256 KiB message among it, into a buffer of its own
            Endpoint other = friend.openEndpoint(EndpointConfig.builder().segmentBytes(1 << 20).build());
            Channel there = other.openChannel();
            Channel here = victim.openChannel().connect(there.address());
            there.connect(here.address());
            ByteBuffer big = ByteBuffer.allocateDirect(256 * 1024);
            for (int size : new int[] {0, 1, 1000, 256 * 1024}) {
                ByteBuffer message = ByteBuffer.allocateDirect(Math.max(1, size));
                EchoExchange.fill(message, size, seed + size);
                assertThat(victim.postReceive(big, 99).isPosted()).isTrue();
                assertThat(other.send(there, message, 0, size, SendPath.PINNED, size).isAccepted()).as(why).isTrue();
                Completion received = HostileDatagramTest.awaitReceive(nic, friend, victim, why);
                assertThat(received.status()).as(why).isEqualTo(CompletionStatus.OK);
                assertThat(received.channel()).as(why).isSameAs(here);
                assertThat(received.length()).as(why).isEqualTo(size);
                assertThat(big.slice(0, size)).as("received bytes; " + why).isEqualTo(message.slice(0, size));
            }
            assertThat(UdpTransport.of(friend).stats().gsoSends()).as("the friend's 256 KiB left as super-datagrams").isPositive();
            assertCanaries(memory, why);
        } finally {
            guarded.close();
        }
    }

    private static void assertCanaries(ByteBuffer memory, String why) {
        for (int i = 0; i < SLICES * SLICE; i++) {
            if ((i / SLICE) % 2 == 1) {
                i += SLICE - 1;
                continue;
            }
            if (memory.get(i) != CANARY) {
                throw new AssertionError("byte " + i + ", between the posted slices, was written (" + why + ")");
            }
        }
    }

    /** Lays out frames back to back into a run of {@link #SEGMENT}-byte segments (the last may be short). */
    private static final class Runs {
        private final Random random;
        private final int victimTag;
        private final long victimConnection;
        private final CRC32C crc = new CRC32C();

        Runs(Random random, int victimTag, long victimConnection) {
            this.random = random;
            this.victimTag = victimTag;
            this.victimConnection = victimConnection;
        }

        ByteBuffer payload(int length) {
            ByteBuffer p = ByteBuffer.allocate(length);
            for (int i = 0; i < length; i++) {
                p.put(i, (byte) random.nextInt());
            }
            return p;
        }

        ByteBuffer start() {
            return ByteBuffer.allocate(16 * SEGMENT).order(ByteOrder.LITTLE_ENDIAN).limit(0);
        }

        /**
         * Appends a frame whose header says ({@code offset}, {@code claimed}) of message {@code id} and
         * which carries {@code carried} bytes of {@code payload} from {@code from}; {@code more}: FLAG_MORE.
         */
        void frame(ByteBuffer run, long id, int messageLength, int offset, int claimed, ByteBuffer payload, int from,
                   int carried, boolean more) {
            FrameHeader h = new FrameHeader();
            h.type = FrameHeader.TYPE_DATA;
            h.sourceTag = PEER_TAG;
            h.destinationTag = victimTag;
            h.sourceConnection = PEER_CONNECTION;
            h.destinationConnection = victimConnection;
            h.messageId = id;
            h.fragmentOffset = offset;
            h.messageLength = messageLength;
            h.fragmentLength = claimed;
            int at = run.limit();
            run.limit(at + WireFrame.HEADER_LENGTH + carried);
            WireFrame.encode(h, run, at, crc);
            if (more) {
                WireFrame.markFollowed(run, at, crc);
            }
            for (int i = 0; i < carried; i++) {
                run.put(at + WireFrame.HEADER_LENGTH + i, payload.get(from + i));
            }
        }
    }

    /** A raw UDP socket on 127.0.0.1 that sends a run as one GSO super-datagram of {@link #SEGMENT}-byte segments. */
    private static final class GsoSender implements AutoCloseable {
        private static final int MSGHDR = 0;
        private static final int IOV = 64;
        private static final int NAME = 80;
        private static final int CONTROL = 96;
        private static final int DATA = 128;
        private final int fd = Libc.udpSocket();
        private final NativeBuffer native_ = NativeMemory.allocate(DATA + 16 * SEGMENT);
        private final ByteBuffer memory = native_.buffer().order(ByteOrder.LITTLE_ENDIAN);
        private final int port;

        GsoSender() {
            Libc.bind(fd, UdpAddress.parse("udp://127.0.0.1:0", true).sockaddr(), "127.0.0.1:0");
            memory.putInt(NAME + 16, 16);
            Libc.getsockname(fd, native_.address() + NAME, native_.address() + NAME + 16);
            port = UdpAddress.fromSockaddrWord(memory.getLong(NAME)).port();
        }

        int port() {
            return port;
        }

        void send(ByteBuffer run, UdpAddress to) {
            int length = run.limit();
            for (int i = 0; i < length; i++) {
                memory.put(DATA + i, run.get(i));
            }
            long base = native_.address();
            memory.putLong(NAME, to.sockaddrWord());
            memory.putLong(NAME + 8, 0);
            SocketStructs.msghdr(memory, MSGHDR, base + NAME, 16, base + IOV, 1);
            SocketStructs.iovec(memory, IOV, base + DATA, length);
            SocketStructs.segmentControl(memory, CONTROL, SEGMENT);
            memory.putLong(MSGHDR + SocketStructs.MSG_CONTROL, base + CONTROL);
            memory.putLong(MSGHDR + SocketStructs.MSG_CONTROLLEN, SocketStructs.SEGMENT_CONTROL_LENGTH);
            assertThat(Libc.sendmsg(fd, base + MSGHDR, 0)).as("the run went as one send").isEqualTo(length);
        }

        @Override
        public void close() {
            Libc.close(fd);
            native_.close();
        }
    }
}
