package org.unetmm.nic.udp;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.unetmm.Channel;
import org.unetmm.ChannelAddress;
import org.unetmm.Completion;
import org.unetmm.CompletionStatus;
import org.unetmm.Endpoint;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
import org.unetmm.SendPath;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.ProcessStatus;
import org.unetmm.spi.FrameHeader;

/**
 * The udp wire's send batch and coalesced datagrams, over real sockets on loopback: many small
 * messages to several channels of one peer share datagrams and leave with few {@code sendmmsg}
 * calls, byte-exact and each send completed exactly once, whether the payloads were copied into
 * the batch or retained zero-copy until the batch was sent; a lone message leaves in the round it
 * was queued in; hostile coalesced datagrams are dropped and counted frame by frame and write
 * nothing outside a posted buffer (guard pages, canaries); VmLck is back to baseline afterwards.
 */
@Timeout(60)
class CoalescedDatagramTest {
    private static final byte CANARY = (byte) 0xA5;
    private final long baseline = ProcessStatus.vmLckBytes();
    private Nic a;
    private Nic b;

    private static Nic open(String uri) {
        return Nic.open(NicConfig.builder().transport(uri).progressMode(ProgressMode.CALLER).build());
    }

    @AfterEach
    void close() {
        if (a != null) {
            a.close();
        }
        if (b != null) {
            b.close();
        }
        assertThat(ProcessStatus.vmLckBytes()).as("VmLck after the NICs closed").isEqualTo(baseline);
    }

    /** sendcopy 0: every payload retained; 100: copied and retained frames side by side in one datagram; default: all copied. */
    @ParameterizedTest(name = "sendcopy={0}")
    @ValueSource(ints = {0, 100, UdpConfig.DEFAULT_SEND_COPY})
    void smallMessagesToSeveralChannelsOfOnePeerShareDatagramsAndCompleteExactlyOnce(int sendCopy) {
        long seed = Long.getLong("unetmm.test.seed", System.nanoTime());
        String why = "seed " + seed + " (rerun with -Dunetmm.test.seed=" + seed + "), sendcopy=" + sendCopy;
        Random random = new Random(seed);
        a = open("udp://127.0.0.1:0?sendcopy=" + sendCopy);
        b = open("udp://127.0.0.1:0");
        Endpoint x = a.openEndpoint();
        Endpoint y = b.openEndpoint();
        int channels = 4;
        Channel[] out = new Channel[channels];
        Channel[] in = new Channel[channels];
        for (int c = 0; c < channels; c++) {
            out[c] = x.openChannel();
            in[c] = y.openChannel();
            out[c].connect(in[c].address());
            in[c].connect(out[c].address());
        }
        int messages = 240;
        ByteBuffer source = ByteBuffer.allocateDirect(messages * 256);
        for (int i = 0; i < source.capacity(); i++) {
            source.put(i, (byte) random.nextInt());
        }
        int[] lengths = new int[messages];
        ByteBuffer[] targets = new ByteBuffer[messages];
        for (int i = 0; i < messages; i++) {
            lengths[i] = 1 + random.nextInt(200);
            targets[i] = ByteBuffer.allocateDirect(256);
            assertThat(y.postReceive(targets[i], 10_000 + i).isPosted()).isTrue();
        }
        Set<Long> sendsCompleted = new HashSet<>();
        List<Completion> receives = new ArrayList<>();
        int queued = 0;
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (receives.size() < messages || sendsCompleted.size() < messages) {
            assertThat(System.nanoTime() - deadline).as("all messages arrive; " + why).isNegative();
            while (queued < messages && x.send(out[queued % channels], source, queued * 256, lengths[queued],
                    SendPath.PINNED, queued).isAccepted()) {
                queued++;
            }
            a.progress();
            b.progress();
            for (Completion c; (c = x.poll()) != null; ) {
                assertThat(c.kind()).isEqualTo(Completion.Kind.SEND);
                assertThat(c.status()).as(why).isEqualTo(CompletionStatus.OK);
                assertThat(sendsCompleted.add(c.cookie())).as("send " + c.cookie() + " completes once; " + why).isTrue();
            }
            for (Completion c; (c = y.poll()) != null; ) {
                receives.add(c.copy());
            }
        }
        int[] nextOnChannel = new int[channels];
        for (int c = 0; c < channels; c++) {
            nextOnChannel[c] = c;
        }
        for (Completion r : receives) {
            assertThat(r.status()).as(why).isEqualTo(CompletionStatus.OK);
            int c = java.util.Arrays.asList(in).indexOf(r.channel());
            int i = nextOnChannel[c];
            nextOnChannel[c] += channels;
            assertThat(r.length()).as("message " + i + "; " + why).isEqualTo(lengths[i]);
            assertThat(r.buffer().slice(0, lengths[i])).as("message " + i + " byte-exact; " + why)
                    .isEqualTo(source.slice(i * 256, lengths[i]));
        }
        UdpStats sent = UdpTransport.of(a).stats();
        UdpStats got = UdpTransport.of(b).stats();
        assertThat(sent.framesSent()).as(sent.toString()).isEqualTo(messages);
        assertThat(sent.datagramsSent()).as("small messages queued together share datagrams; " + sent).isLessThan(messages / 4);
        assertThat(sent.sendCalls()).as("one sendmmsg per round or batch; " + sent).isLessThanOrEqualTo(sent.datagramsSent());
        assertThat(got.framesReceived()).as(got.toString()).isEqualTo(messages);
        assertThat(got.datagramsReceived()).isEqualTo(sent.datagramsSent());
        assertThat(got.dropped()).isZero();
    }

    @ParameterizedTest(name = "sendcopy={0}")
    @ValueSource(ints = {0, UdpConfig.DEFAULT_SEND_COPY})
    void aLoneMessageLeavesAndCompletesInTheRoundItWasQueuedIn(int sendCopy) {
        a = open("udp://127.0.0.1:0?sendcopy=" + sendCopy);
        b = open("udp://127.0.0.1:0");
        Endpoint x = a.openEndpoint();
        Endpoint y = b.openEndpoint();
        Channel xy = x.openChannel();
        Channel yx = y.openChannel();
        xy.connect(yx.address());
        yx.connect(xy.address());
        ByteBuffer message = ByteBuffer.allocateDirect(4096);
        EchoExchange.fill(message, 4096, 3);
        ByteBuffer target = ByteBuffer.allocateDirect(4096);
        y.postReceive(target, 1);
        assertThat(x.send(xy, message, 0, 4096, SendPath.PINNED, 2).isAccepted()).isTrue();
        a.progress(); // one round: the send loop queues the fragment, the wire's poll ends the round with sendmmsg
        assertThat(UdpTransport.of(a).stats().datagramsSent()).as("sent in the round it was queued in").isEqualTo(1);
        Completion sent = x.poll();
        assertThat(sent).as("the send completes in that round").isNotNull();
        assertThat(sent.status()).isEqualTo(CompletionStatus.OK);
        Completion r = null;
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (r == null) {
            assertThat(System.nanoTime() - deadline).isNegative();
            b.progress();
            r = y.poll();
        }
        assertThat(r.length()).isEqualTo(4096);
        assertThat(target).isEqualTo(message.duplicate().clear());
    }

    /** A raw peer's coalesced datagrams, frame by frame; {@code build} describes each frame. */
    private static final class Datagram {
        private final ByteBuffer bytes = ByteBuffer.allocate(WireFrame.MAX_DATAGRAM).order(ByteOrder.LITTLE_ENDIAN);
        private final CRC32C crc = new CRC32C();
        private final int tag;
        private int last = -1;
        private long messageId;

        Datagram(int tag, long firstMessageId) {
            this.tag = tag;
            this.messageId = firstMessageId;
        }

        /** Appends a frame claiming {@code claimed} payload bytes and carrying {@code carried} bytes of {@code fill}. */
        Datagram frame(int messageLength, int claimed, int carried, byte fill) {
            if (last >= 0) {
                WireFrame.markFollowed(bytes, last, crc);
            }
            FrameHeader h = new FrameHeader();
            h.type = FrameHeader.TYPE_DATA;
            h.sourceTag = 4;
            h.sourceConnection = 0x4444_0000_0000_0004L;
            h.destinationTag = tag;
            h.messageId = messageId++;
            h.messageLength = messageLength;
            h.fragmentLength = claimed;
            last = bytes.position();
            WireFrame.encode(h, bytes, last, crc);
            for (int i = 0; i < carried; i++) {
                bytes.put(last + WireFrame.HEADER_LENGTH + i, fill);
            }
            bytes.position(last + WireFrame.HEADER_LENGTH + carried);
            return this;
        }

        /** Marks the last frame followed, though nothing follows. */
        Datagram claimMore() {
            WireFrame.markFollowed(bytes, last, crc);
            return this;
        }

        /** Flips a bit of the last frame's header (its checksum no longer matches). */
        Datagram corruptLast() {
            bytes.put(last + WireFrame.MESSAGE_ID_OFFSET, (byte) (bytes.get(last + WireFrame.MESSAGE_ID_OFFSET) ^ 1));
            return this;
        }

        DatagramPacket packet(InetSocketAddress to) {
            return new DatagramPacket(bytes.array(), bytes.position(), to);
        }
    }

    /** messages=1: every poll stops after one message, so each hostile frame is met after a pause in its datagram. */
    @ParameterizedTest(name = "copybreak={0} messages={1}")
    @CsvSource({"0, 8", "4096, 8", "0, 1", "4096, 1"})
    void hostileCoalescedDatagramsAreDroppedFrameByFrameAndWriteNothingOutsideThePostedBuffers(int copyBreak, int messages)
            throws Exception {
        a = open("udp://127.0.0.1:0?copybreak=" + copyBreak + "&messages=" + messages);
        Endpoint endpoint = a.openEndpoint();
        int slot = 512;
        int posted = 256;
        int slots = 16;
        NativeBuffer guarded = NativeMemory.allocate(slots * slot, true);
        ByteBuffer memory = guarded.buffer();
        for (int i = 0; i < memory.capacity(); i++) {
            memory.put(i, CANARY);
        }
        try (DatagramSocket peer = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            Channel channel = endpoint.openChannel().connect(new ChannelAddress("udp://127.0.0.1:" + peer.getLocalPort(), 4));
            for (int s = 0; s < slots; s++) {
                endpoint.postReceive(memory.slice(s * slot, posted), s);
            }
            InetSocketAddress to = new InetSocketAddress(InetAddress.getLoopbackAddress(), UdpTransport.of(a).boundAddress().port());
            int tag = channel.tag();
            long id = 0;
            // three good frames in one datagram: three messages
            peer.send(new Datagram(tag, id).frame(10, 10, 10, (byte) 1).frame(20, 20, 20, (byte) 2).frame(30, 30, 30, (byte) 3).packet(to));
            id += 3;
            // the second frame claims 100 bytes past the end of its datagram: the first still arrives
            peer.send(new Datagram(tag, id).frame(40, 40, 40, (byte) 4).frame(200, 200, 100, (byte) 9).packet(to));
            id += 2;
            // the second frame's header is corrupt
            peer.send(new Datagram(tag, id).frame(50, 50, 50, (byte) 5).frame(20, 20, 20, (byte) 9).corruptLast().packet(to));
            id += 2;
            // the first frame claims fewer bytes than it carries: the next "header" lands in its payload
            peer.send(new Datagram(tag, id).frame(30, 30, 60, (byte) 6).frame(20, 20, 20, (byte) 9).packet(to));
            id += 2;
            // the last frame says another follows, and none does
            peer.send(new Datagram(tag, id).frame(20, 20, 20, (byte) 9).claimMore().packet(to));
            id += 1;
            // a frame of a message longer than the posted buffer: truncated at the buffer's end, not past it
            peer.send(new Datagram(tag, id).frame(70, 70, 70, (byte) 7).frame(posted + 200, posted + 200, posted + 200, (byte) 8).packet(to));
            id += 2;
            // ordinary traffic afterwards: a lone frame
            peer.send(new Datagram(tag, id).frame(90, 90, 90, (byte) 10).packet(to));

            List<Completion> receives = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (receives.size() < 9) {
                assertThat(System.nanoTime() - deadline).as("the valid frames arrive; got " + receives).isNegative();
                a.progress();
                for (Completion c; (c = endpoint.poll()) != null; ) {
                    receives.add(c.copy());
                }
            }
            int[] expectFill = {1, 2, 3, 4, 5, 6, 7, 8, 10};
            int[] expectLength = {10, 20, 30, 40, 50, 30, 70, posted, 90};
            for (int i = 0; i < expectFill.length; i++) {
                Completion r = receives.get(i);
                assertThat(r.length()).as("delivery " + i + ": " + r).isEqualTo(expectLength[i]);
                assertThat(r.status()).as("delivery " + i + ": " + r).isEqualTo(expectLength[i] == posted
                        ? CompletionStatus.TRUNCATED : CompletionStatus.OK);
                for (int k = 0; k < r.length(); k++) {
                    assertThat(r.buffer().get(r.offset() + k)).as("delivery " + i + " byte " + k).isEqualTo((byte) expectFill[i]);
                }
            }
            UdpStats stats = UdpTransport.of(a).stats();
            assertThat(stats.datagramsReceived()).as(stats.toString()).isEqualTo(7);
            assertThat(stats.drops(WireDropReason.LENGTH_MISMATCH)).as("claims past the datagram, a missing follower; " + stats)
                    .isEqualTo(2);
            assertThat(stats.drops(WireDropReason.BAD_CHECKSUM)).as(stats.toString()).isEqualTo(1);
            assertThat(stats.drops(WireDropReason.BAD_MAGIC)).as("a header inside a payload; " + stats).isEqualTo(1);
            assertThat(stats.framesReceived()).isEqualTo(stats.framesPlaced() + stats.framesCopied() + stats.framesDeclined());
            for (int s = 0; s < slots; s++) {
                for (int k = posted; k < slot; k++) {
                    assertThat(memory.get(s * slot + k)).as("canary after posted buffer " + s + " at " + k).isEqualTo(CANARY);
                }
            }
        } finally {
            endpoint.close();
            guarded.close();
        }
    }

    /**
     * A burst of requests that arrives in one datagram is completed {@code messages} at a time, a
     * progress round each, the rest waiting in the receive area (no receive call for them), so
     * answers to the first can leave while the rest are served; byte-exact, in order, none lost.
     */
    @ParameterizedTest(name = "messages={0}")
    @ValueSource(ints = {1, 8, 64})
    void aBurstInOneDatagramCompletesAtMostMessagesPerRoundAndTheRestInTheRoundsAfter(int perPoll) {
        a = open("udp://127.0.0.1:0");
        b = open("udp://127.0.0.1:0?messages=" + perPoll);
        Endpoint x = a.openEndpoint();
        Endpoint y = b.openEndpoint();
        Channel out = x.openChannel();
        Channel in = y.openChannel();
        out.connect(in.address());
        in.connect(out.address());
        int burst = 20;
        ByteBuffer source = ByteBuffer.allocateDirect(burst * 64);
        for (int i = 0; i < source.capacity(); i++) {
            source.put(i, (byte) (i * 7 + 3));
        }
        ByteBuffer[] targets = new ByteBuffer[burst];
        for (int i = 0; i < burst; i++) {
            targets[i] = ByteBuffer.allocateDirect(64);
            assertThat(y.postReceive(targets[i], i).isPosted()).isTrue();
        }
        for (int i = 0; i < burst; i++) {
            assertThat(x.send(out, source, i * 64, 64, SendPath.PINNED, i).isAccepted()).isTrue();
        }
        a.progress(); // one round: the burst leaves in one datagram
        UdpStats sent = UdpTransport.of(a).stats();
        assertThat(sent.datagramsSent()).as("the burst was coalesced; " + sent).isEqualTo(1);
        assertThat(sent.framesSent()).isEqualTo(burst);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (UdpTransport.of(b).stats().datagramsReceived() == 0) {
            assertThat(System.nanoTime() - deadline).as("the datagram arrives").isNegative();
            b.progress(); // until the round that takes the datagram
        }
        List<Completion> receives = new ArrayList<>();
        int expected = Math.min(perPoll, burst);
        while (true) {
            int before = receives.size();
            for (Completion c; (c = y.poll()) != null; ) {
                receives.add(c.copy());
            }
            int completed = receives.size() - before;
            assertThat(completed).as("messages completed by one round, after " + before).isEqualTo(expected);
            if (receives.size() == burst) {
                break;
            }
            long callsBefore = UdpTransport.of(b).stats().receiveCalls();
            b.progress();
            int left = burst - receives.size();
            expected = Math.min(perPoll, left);
            if (left > perPoll) {
                assertThat(UdpTransport.of(b).stats().receiveCalls()).as("frames left in the receive area need no"
                        + " receive call").isEqualTo(callsBefore);
            }
        }
        for (int i = 0; i < burst; i++) {
            Completion r = receives.get(i);
            assertThat(r.status()).isEqualTo(CompletionStatus.OK);
            assertThat(r.cookie()).as("in order").isEqualTo(i);
            assertThat(r.buffer().slice(0, 64)).as("message " + i + " byte-exact").isEqualTo(source.slice(i * 64, 64));
        }
        assertThat(UdpTransport.of(b).stats().framesReceived()).isEqualTo(burst);
        assertThat(UdpTransport.of(b).stats().dropped()).isZero();
        for (Completion c; (c = x.poll()) != null; ) {
            assertThat(c.status()).isEqualTo(CompletionStatus.OK);
        }
    }
}
