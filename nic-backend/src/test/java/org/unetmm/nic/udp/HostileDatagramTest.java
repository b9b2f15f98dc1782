package org.unetmm.nic.udp;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.Random;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.unetmm.Channel;
import org.unetmm.ChannelAddress;
import org.unetmm.Completion;
import org.unetmm.CompletionStatus;
import org.unetmm.DropReason;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.NicStats;
import org.unetmm.ProgressMode;
import org.unetmm.SendPath;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.spi.FrameHeader;

/**
 * DESIGN §4 invariant 4 on the udp wire: a plain {@link DatagramSocket} throws 10^5 seeded random,
 * truncated and malformed datagrams at an endpoint whose posted buffer is the middle third of an
 * allocation between PROT_NONE guard pages. The JVM survives (a stray write past the allocation
 * would fault), the bytes around the posted slice keep their canary, every datagram is accounted
 * for (the wire's drops by reason, each exactly as many as were sent of that kind; the NIC's for
 * frames with a valid header), and an ordinary exchange works afterwards. Runs with direct
 * placement only ({@code copybreak=0}) and with the default copy break, so both receive paths
 * meet the same input.
 */
@Timeout(90)
class HostileDatagramTest {
    private static final int DATAGRAMS = 100_000;
    private static final int BURST = 128;
    private static final int SLICE = 64 * 1024;
    private static final byte CANARY = (byte) 0x5A;
    private static final int PEER_TAG = 7;
    private static final long PEER_CONNECTION = 0x5EED_CAFE_F00D_0007L;

    /** What each datagram is; the first ten fail a wire check, the rest reach the NIC. */
    enum Kind {
        SHORT(WireDropReason.SHORT_DATAGRAM), BAD_MAGIC(WireDropReason.BAD_MAGIC),
        BAD_CHECKSUM(WireDropReason.BAD_CHECKSUM), BAD_VERSION(WireDropReason.BAD_VERSION),
        BAD_TYPE(WireDropReason.BAD_TYPE), BAD_FLAGS(WireDropReason.BAD_FLAGS), BAD_TAG(WireDropReason.BAD_TAG),
        BAD_LENGTHS(WireDropReason.BAD_LENGTHS), LENGTH_MISMATCH(WireDropReason.LENGTH_MISMATCH),
        BAD_CONNECTION(WireDropReason.BAD_CONNECTION), UNKNOWN_DESTINATION(null), WRONG_SOURCE(null), WRONG_CONNECTION(null), CONTROL(null), LONGER_THAN_BUFFER(null), STRAY_FRAGMENT(null),
        VALID(null);

        final WireDropReason wireReason;

        Kind(WireDropReason wireReason) {
            this.wireReason = wireReason;
        }
    }

    @ParameterizedTest(name = "copybreak={0}")
    @ValueSource(ints = {0, UdpConfig.DEFAULT_COPY_BREAK})
    void hostileDatagramsAreCountedAndNeverWriteOutsideThePostedBuffer(int copyBreak) throws Exception {
        long seed = Long.getLong("unetmm.test.seed", System.nanoTime());
        String why = "seed " + seed + " (rerun with -Dunetmm.test.seed=" + seed + "), copybreak=" + copyBreak;
        Random random = new Random(seed);
        NativeBuffer guarded = NativeMemory.allocate(3 * SLICE, true);
        ByteBuffer memory = guarded.buffer();
        for (int i = 0; i < 3 * SLICE; i++) {
            memory.put(i, CANARY);
        }
        Map<Kind, Long> sent = new EnumMap<>(Kind.class);
        try (DatagramSocket attacker = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
             Nic nic = Nic.open(NicConfig.builder().transport("udp://127.0.0.1:0?copybreak=" + copyBreak)
                     .progressMode(ProgressMode.CALLER).build());
             Nic friend = Nic.open(NicConfig.builder().transport("udp://127.0.0.1:0").progressMode(ProgressMode.CALLER).build())) {
            Endpoint victim = nic.openEndpoint(EndpointConfig.builder().segmentBytes(0).build());
            Channel channel = victim.openChannel().connect(
                    new ChannelAddress("udp://127.0.0.1:" + attacker.getLocalPort(), PEER_TAG, PEER_CONNECTION));
            UdpTransport wire = UdpTransport.of(nic);
            InetSocketAddress target = new InetSocketAddress(InetAddress.getLoopbackAddress(), wire.boundAddress().port());
            victim.postReceive(memory, SLICE, SLICE, 1);

            Frames frames = new Frames(random, channel.tag(), channel.address().connection());
            long total = 0;
            long deliveries = 0;
            while (total < DATAGRAMS) {
                for (int i = 0; i < BURST && total < DATAGRAMS; i++, total++) {
                    Kind kind = Kind.values()[random.nextInt(Kind.values().length)];
                    sent.merge(kind, 1L, Long::sum);
                    byte[] datagram = frames.next(kind);
                    attacker.send(new DatagramPacket(datagram, datagram.length, target));
                }
                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (wire.stats().datagramsReceived() < total) {
                    assertThat(System.nanoTime() - deadline).as("the NIC takes every datagram sent (" + why + ")").isNegative();
                    nic.progress();
                    deliveries += drain(victim, memory);
                }
                deliveries += drain(victim, memory);
            }
            UdpStats stats = wire.stats();
            NicStats nicStats = nic.stats();
            String report = why + "; sent " + sent + "; wire " + stats + "; nic " + nicStats.drops();
            assertThat(stats.datagramsReceived()).as(report).isEqualTo(DATAGRAMS);
            long reachedNic = 0;
            for (Kind kind : Kind.values()) {
                long count = sent.getOrDefault(kind, 0L);
                if (kind.wireReason != null) {
                    assertThat(stats.drops(kind.wireReason)).as(kind + ": " + report).isEqualTo(count);
                } else {
                    reachedNic += count;
                }
            }
            assertThat(stats.drops(WireDropReason.INCONSISTENT_RECEIVE)).as(report).isZero();
            assertThat(stats.framesPlaced() + stats.framesCopied() + stats.framesDeclined()).as(report).isEqualTo(reachedNic);
            assertThat(nicStats.drops().get(DropReason.UNKNOWN_TAG)).as(report).isEqualTo(sent.getOrDefault(Kind.UNKNOWN_DESTINATION, 0L));
            assertThat(nicStats.drops().get(DropReason.WRONG_SOURCE)).as(report).isEqualTo(sent.getOrDefault(Kind.WRONG_SOURCE, 0L));
            assertThat(nicStats.drops().get(DropReason.WRONG_CONNECTION)).as(report)
                    .isEqualTo(sent.getOrDefault(Kind.WRONG_CONNECTION, 0L));
            assertThat(nicStats.drops().get(DropReason.MALFORMED)).as("ack/nack/close frames: the NIC takes data only; " + report)
                    .isEqualTo(sent.getOrDefault(Kind.CONTROL, 0L));
            assertThat(nicStats.dropped()).as(report).isGreaterThanOrEqualTo(stats.framesDeclined());
            assertThat(deliveries).as("valid messages were delivered into the slice; " + report).isPositive();
            assertCanaries(memory, why);

            // a message whose fragments stopped arriving may hold the slice: closing its channel gives it back
            channel.close();
            drain(victim, memory);

            // an ordinary exchange afterwards, into the same guarded slice
            Endpoint other = friend.openEndpoint(EndpointConfig.builder().segmentBytes(1 << 20).build());
            Channel there = other.openChannel();
            Channel here = victim.openChannel().connect(there.address());
            there.connect(here.address());
            for (int size : new int[] {0, 1, 1000, SLICE / 2, SLICE}) {
                ByteBuffer message = ByteBuffer.allocateDirect(Math.max(1, size));
                EchoExchange.fill(message, size, seed + size);
                assertThat(other.send(there, message, 0, size, SendPath.FIXED_SEGMENT, size)).as(why).matches(s -> s.isAccepted());
                Completion received = awaitReceive(nic, friend, victim, why);
                assertThat(received.status()).as(why).isEqualTo(CompletionStatus.OK);
                assertThat(received.channel()).as(why).isSameAs(here);
                assertThat(received.length()).as(why).isEqualTo(size);
                assertThat(memory.slice(SLICE, size)).as("received bytes; " + why).isEqualTo(message.slice(0, size));
                victim.postReceive(memory, SLICE, SLICE, 1);
                ByteBuffer back = ByteBuffer.allocateDirect(SLICE);
                other.postReceive(back, 2);
                assertThat(victim.send(here, memory, SLICE, size, SendPath.PINNED, 3).isAccepted()).as(why).isTrue();
                Completion echoed = awaitReceive(friend, nic, other, why);
                assertThat(echoed.length()).as(why).isEqualTo(size);
                assertThat(back.slice(0, size)).as("echoed bytes; " + why).isEqualTo(message.slice(0, size));
            }
            assertCanaries(memory, why);
        } finally {
            guarded.close();
        }
    }

    /** Takes completions off the victim endpoint and reposts the slice after each receive. */
    private static int drain(Endpoint victim, ByteBuffer memory) {
        int delivered = 0;
        Completion c;
        while ((c = victim.poll()) != null) {
            if (c.kind() == Completion.Kind.RECEIVE) {
                assertThat(c.offset()).isEqualTo(SLICE);
                assertThat(c.length()).isBetween(0, SLICE);
                delivered++;
                victim.postReceive(memory, SLICE, SLICE, 1);
            }
        }
        return delivered;
    }

    /** The next receive on {@code endpoint}, progressing both NICs, within 5 s. */
    static Completion awaitReceive(Nic receiving, Nic sending, Endpoint endpoint, String why) {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (System.nanoTime() - deadline < 0) {
            sending.progress();
            receiving.progress();
            Completion c = endpoint.poll();
            if (c != null && c.kind() == Completion.Kind.RECEIVE) {
                return c;
            }
        }
        throw new AssertionError("no message arrived within 5 s after the barrage (" + why + ")");
    }

    private static void assertCanaries(ByteBuffer memory, String why) {
        for (int i = 0; i < 3 * SLICE; i++) {
            if (i == SLICE) {
                i = 2 * SLICE;
            }
            if (memory.get(i) != CANARY) {
                throw new AssertionError("byte " + i + " of the guarded allocation, outside the posted slice ["
                        + SLICE + ", " + 2 * SLICE + "), was written (" + why + ")");
            }
        }
    }

    /** Builds datagrams of each kind: a valid frame for the victim's channel, then broken as the kind says. */
    private static final class Frames {
        private final Random random;
        private final int victimTag;
        private final long victimConnection;
        private final CRC32C crc = new CRC32C();
        private long messageId;

        Frames(Random random, int victimTag, long victimConnection) {
            this.random = random;
            this.victimTag = victimTag;
            this.victimConnection = victimConnection;
        }

        byte[] next(Kind kind) {
            FrameHeader h = new FrameHeader();
            h.type = FrameHeader.TYPE_DATA;
            h.sourceTag = PEER_TAG;
            h.destinationTag = victimTag;
            h.sourceConnection = PEER_CONNECTION;
            h.destinationConnection = victimConnection;
            h.messageId = messageId++;
            int payload = random.nextInt(random.nextInt(10) == 0 ? 9000 : 1500);
            h.fragmentOffset = 0;
            h.messageLength = payload;
            h.fragmentLength = payload;
            int extra = 0;
            switch (kind) {
                case SHORT -> {
                    byte[] junk = new byte[random.nextInt(WireFrame.HEADER_LENGTH)];
                    random.nextBytes(junk);
                    return junk;
                }
                case BAD_TYPE -> h.type = random.nextBoolean() ? 0 : 5 + random.nextInt(251);
                case BAD_FLAGS -> h.flags = (FrameHeader.KNOWN_FLAGS + 1 + random.nextInt(0x7FFF - FrameHeader.KNOWN_FLAGS))
                        | (random.nextBoolean() ? WireFrame.FLAG_MORE : 0); // an unknown bit, alone or with the coalescing one
                case BAD_TAG -> {
                    int bad = random.nextBoolean() ? 0 : -1 - random.nextInt(Integer.MAX_VALUE);
                    if (random.nextBoolean()) {
                        h.sourceTag = bad;
                    } else {
                        h.destinationTag = bad;
                    }
                }
                case BAD_LENGTHS -> breakLengths(h);
                case LENGTH_MISMATCH -> {
                    h.messageLength = payload + random.nextInt(1 << 20);
                    h.fragmentOffset = random.nextInt(h.messageLength - payload + 1);
                    extra = random.nextBoolean() ? 1 + random.nextInt(2000) : -Math.min(payload, 1 + random.nextInt(2000));
                    if (extra == 0) {
                        extra = 1;
                    }
                }
                case UNKNOWN_DESTINATION -> h.destinationTag = 1000 + random.nextInt(1 << 20);
                case WRONG_SOURCE -> h.sourceTag = PEER_TAG + 1 + random.nextInt(1 << 20);
                case BAD_CONNECTION -> h.sourceConnection = 0;
                case WRONG_CONNECTION -> { // a restarted peer's new channel, or a frame meant for the tag's previous holder
                    if (random.nextBoolean()) {
                        h.sourceConnection = PEER_CONNECTION ^ (1L + random.nextInt(Integer.MAX_VALUE));
                    } else {
                        h.destinationConnection = random.nextBoolean() ? 0 : victimConnection ^ (1L << random.nextInt(64));
                    }
                }
                case CONTROL -> h.type = FrameHeader.TYPE_ACK + random.nextInt(3);
                case LONGER_THAN_BUFFER -> {
                    h.messageLength = SLICE + payload + random.nextInt(1 << 22);
                    h.fragmentOffset = random.nextBoolean() ? 0 : random.nextInt(h.messageLength - payload + 1);
                }
                case STRAY_FRAGMENT -> {
                    h.messageId = messageId - 1 - random.nextInt(3); // overlapping, repeated or from an old message
                    h.messageLength = payload + random.nextInt(SLICE);
                    h.fragmentOffset = random.nextInt(h.messageLength - payload + 1);
                }
                default -> {
                    // BAD_MAGIC, BAD_CHECKSUM, BAD_VERSION and VALID start from a valid frame
                }
            }
            byte[] datagram = new byte[WireFrame.HEADER_LENGTH + Math.max(0, payload + extra)];
            ByteBuffer frame = ByteBuffer.wrap(datagram).order(ByteOrder.LITTLE_ENDIAN);
            WireFrame.encode(h, frame, crc);
            for (int i = WireFrame.HEADER_LENGTH; i < datagram.length; i++) {
                datagram[i] = (byte) random.nextInt();
            }
            switch (kind) {
                case BAD_MAGIC -> frame.putInt(WireFrame.MAGIC_OFFSET, WireFrame.MAGIC ^ (1 + random.nextInt(Integer.MAX_VALUE)));
                case BAD_CHECKSUM -> {
                    int bit = random.nextInt((WireFrame.HEADER_LENGTH - 4) * 8);
                    datagram[4 + bit / 8] ^= (byte) (1 << (bit % 8));
                }
                case BAD_VERSION -> {
                    frame.put(WireFrame.VERSION_OFFSET, (byte) (WireFrame.VERSION + 1 + random.nextInt(255)));
                    frame.putInt(WireFrame.CHECKSUM_OFFSET, WireFrame.checksum(frame, crc));
                }
                default -> {
                    // encoded as built
                }
            }
            return datagram;
        }

        /** Fields that each look plausible but do not fit together: a fragment outside its message. */
        private void breakLengths(FrameHeader h) {
            switch (random.nextInt(6)) {
                case 0 -> h.messageLength = -1 - random.nextInt(Integer.MAX_VALUE);
                case 1 -> h.fragmentOffset = -1 - random.nextInt(Integer.MAX_VALUE);
                case 2 -> h.fragmentLength = -1 - random.nextInt(Integer.MAX_VALUE);
                case 3 -> h.fragmentOffset = h.messageLength + 1 + random.nextInt(1 << 20); // offset past the message
                case 4 -> { // the fragment runs past the end of its message
                    h.fragmentOffset = h.messageLength - random.nextInt(h.messageLength + 1) + 1;
                    h.fragmentLength = h.messageLength - h.fragmentOffset + 1 + random.nextInt(1000);
                    h.fragmentOffset = Math.min(h.fragmentOffset, h.messageLength);
                    h.fragmentLength = Math.max(h.fragmentLength, h.messageLength - h.fragmentOffset + 1);
                }
                default -> { // sums that overflow an int
                    h.messageLength = Integer.MAX_VALUE;
                    h.fragmentOffset = Integer.MAX_VALUE - random.nextInt(100);
                    h.fragmentLength = Integer.MAX_VALUE - h.fragmentOffset + 1 + random.nextInt(100);
                }
            }
        }
    }
}
