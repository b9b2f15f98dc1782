package org.unetmm.nic.shm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.Channel;
import org.unetmm.ChannelAddress;
import org.unetmm.Completion;
import org.unetmm.CompletionStatus;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.SendPath;
import org.unetmm.SendStatus;
import org.unetmm.nic.udp.EchoExchange;
import org.unetmm.nic.udp.PeerProcess;
import org.unetmm.nic.udp.UdpEchoPeer;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.ProcessStatus;

/**
 * The fixed-segment path over shm as base U-Net: an endpoint's segment is a file under /dev/shm
 * its peers map ({@link ShmSegment}), a fixed-path fragment travels as a segment frame naming
 * (segment, offset, length), and the peer's NIC copies it out of its mapping: copy in, copy out,
 * never a third copy through the ring nor a process_vm_readv. The sender's segment space is
 * reused only once the peer copied the fragment out; every (segment, offset, length) a peer
 * names is checked; the files are 0600 and go on close and with a dead peer.
 */
@Timeout(120)
class ShmFixedSegmentTest {
    private static final int MAX_MESSAGE = 4 << 20;

    private static List<Path> segmentFiles(String nicName) throws IOException {
        try (Stream<Path> files = Files.list(ShmDirectory.ROOT)) {
            return files.filter(p -> p.getFileName().toString().startsWith(ShmDirectory.PREFIX + nicName + "@")
                    && p.getFileName().toString().endsWith(ShmSegment.SUFFIX)).toList();
        }
    }

    private static String nameOf(String channelAddress) {
        return ChannelAddress.parse(channelAddress).transportAddress().substring("shm:".length());
    }

    @Test
    void fixedPathMessagesOfEverySizeTravelAsSegmentFramesBothWaysByteExact() throws Exception {
        long baseline = ProcessStatus.vmLckBytes();
        long seed = Long.getLong("unetmm.test.seed", System.nanoTime());
        String name = ShmPairInOneJvmTest.fresh("fixed");
        Nic nic = ShmTwoProcessTest.open("shm:" + name);
        EchoExchange exchange = null;
        try {
            Endpoint endpoint = nic.openEndpoint(EndpointConfig.builder().segmentBytes(MAX_MESSAGE + 4096).build());
            Channel pinned = endpoint.openChannel();
            Channel fixed = endpoint.openChannel();
            exchange = new EchoExchange(endpoint, MAX_MESSAGE);
            assertThat(segmentFiles(name)).as("this NIC's segment, shared").hasSize(1);
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(segmentFiles(name).get(0))))
                    .isEqualTo("rw-------");
            try (PeerProcess peer = PeerProcess.start(List.of(), UdpEchoPeer.class, "shm:", pinned.address().toString(),
                    fixed.address().toString(), "90", String.valueOf(MAX_MESSAGE))) {
                String[] ready = peer.awaitReady(Duration.ofSeconds(30));
                fixed.connect(ChannelAddress.parse(ready[1]));
                int mtu = nic.mtu();
                long fragments = 0;
                int empty = 0;
                for (int size : new int[] {0, 1, 71, 72, 4096, 16384, 16385, 65_536, mtu - 1, mtu, mtu + 1, 1 << 20,
                        3 * mtu + 17, MAX_MESSAGE}) {
                    exchange.roundTrip(fixed, SendPath.FIXED_SEGMENT, size, seed + size, Duration.ofSeconds(5), 1);
                    fragments += (size + mtu - 1) / mtu;
                    empty += size == 0 ? 1 : 0;
                }
                assertThat(segmentFiles(nameOf(ready[1]))).as("the peer's segment, shared").hasSize(1);
                ShmStats wire = ShmTransport.of(nic).stats();
                assertThat(wire.dropped()).as("wire drops " + wire.drops()).isZero();
                assertThat(wire.segmentSent()).as("every fixed fragment left as a segment frame: " + wire).isEqualTo(fragments);
                assertThat(wire.segmentReceived()).as("every echo was copied out of the peer's segment").isEqualTo(fragments);
                assertThat(wire.rendezvousSent()).as("no fixed fragment by process_vm_readv").isZero();
                assertThat(wire.inlineSent()).as("only the empty message through the ring").isEqualTo(empty);
                assertThat(wire.segmentCompleted()).as("each segment frame completed once by the peer").isEqualTo(fragments);
                assertThat(wire.segmentFailed()).isZero();
                assertThat(exchange.retries).as("nothing is lost on shm (seed " + seed + ")").isZero();
            }
            endpoint.close();
            assertThat(segmentFiles(name)).as("the segment's file goes with its endpoint").isEmpty();
        } finally {
            nic.close();
            if (exchange != null) {
                exchange.close();
            }
        }
        assertThat(ProcessStatus.vmLckBytes()).as("VmLck after close").isEqualTo(baseline);
        assertThat(segmentFiles(name)).isEmpty();
    }

    @Test
    void aFixedSendsSegmentSpaceIsReusedOnlyAfterThePeerCopiedItOut() {
        long seed = Long.getLong("unetmm.test.seed", System.nanoTime());
        SplittableRandom random = new SplittableRandom(seed);
        int size = 4096; // inline before the segment was shared: completed as soon as it was in the ring
        Nic nb = ShmTwoProcessTest.open("shm:" + ShmPairInOneJvmTest.fresh("reuse"));
        Nic na = ShmTwoProcessTest.open("shm:");
        try (NativeBuffer first = NativeMemory.allocate(size); NativeBuffer second = NativeMemory.allocate(size);
             NativeBuffer into = NativeMemory.allocate(size)) {
            fill(random, first, second);
            Endpoint a = na.openEndpoint(EndpointConfig.builder().segmentBytes(size).build());
            Endpoint b = nb.openEndpoint();
            Channel ba = b.openChannel();
            Channel ab = a.connect(ba.address());
            ba.connect(ab.address());
            assertThat(a.send(ab, first.buffer(), 0, size, SendPath.FIXED_SEGMENT, 1)).isEqualTo(SendStatus.ACCEPTED);
            for (int round = 0; round < 50; round++) {
                na.progress(); // the sender's NIC alone: the frame is posted, the peer has not copied it
            }
            assertThat(ShmTransport.of(na).stats().segmentSent()).as("posted as a segment frame").isEqualTo(1);
            assertThat(a.poll()).as("no completion before the peer copied the bytes out").isNull();
            assertThat(a.send(ab, second.buffer(), 0, size, SendPath.FIXED_SEGMENT, 2))
                    .as("the segment's space is still the first message's").isEqualTo(SendStatus.SEGMENT_FULL);
            assertThat(b.postReceive(into.buffer(), 0, size, 1).isPosted()).isTrue();
            Completion received = null;
            Completion sent = null;
            long deadline = System.nanoTime() + 5_000_000_000L;
            while ((received == null || sent == null) && System.nanoTime() - deadline < 0) {
                nb.progress();
                na.progress();
                received = received != null ? received : b.poll();
                sent = sent != null ? sent : a.poll();
            }
            assertThat(received).as("the peer copied the first message out").isNotNull();
            assertThat(received.status()).as(received.detail()).isEqualTo(CompletionStatus.OK);
            assertThat(sent).as("the first send completes once the peer copied it").isNotNull();
            assertThat(sent.status()).as(sent.detail()).isEqualTo(CompletionStatus.OK);
            assertThat(into.buffer().slice(0, size)).as("the first message, seed " + seed).isEqualTo(first.buffer().slice(0, size));
            Completion again = ShmPairInOneJvmTest.transfer(na, nb, a, b, ab, second.buffer(), into.buffer(), size,
                    SendPath.FIXED_SEGMENT, 2);
            assertThat(into.buffer().slice(0, size)).as("the second, after the space came back").isEqualTo(second.buffer().slice(0, size));
            assertThat(again.length()).isEqualTo(size);
        } finally {
            na.close();
            nb.close();
        }
    }

    /**
     * A process of the same user (here {@code truncate(1)}) shrinks what it can reach of a segment
     * the peer has mapped: the file that names it, and its memory through /proc. A mapped file that
     * shrinks makes the peer's next copy out of it fault, and the JVM reports that fault some time
     * after the copy, when the message has already been delivered as complete; the memory is a
     * sealed memfd, so it cannot shrink, and the next message arrives byte-exact.
     */
    @Test
    void aSegmentAnotherProcessTriesToTruncateStillDeliversTheNextMessageByteExact() throws Exception {
        long baseline = ProcessStatus.vmLckBytes();
        long seed = Long.getLong("unetmm.test.seed", System.nanoTime());
        SplittableRandom random = new SplittableRandom(seed);
        int size = 65_536;
        Nic nb = ShmTwoProcessTest.open("shm:" + ShmPairInOneJvmTest.fresh("trunc"));
        Nic na = ShmTwoProcessTest.open("shm:");
        try (NativeBuffer first = NativeMemory.allocate(size); NativeBuffer second = NativeMemory.allocate(size);
             NativeBuffer into = NativeMemory.allocate(size)) {
            fill(random, first, second);
            Endpoint a = na.openEndpoint(EndpointConfig.builder().segmentBytes(2 * size).build());
            Endpoint b = nb.openEndpoint();
            Channel ba = b.openChannel();
            Channel ab = a.connect(ba.address());
            ba.connect(ab.address());
            ShmPairInOneJvmTest.transfer(na, nb, a, b, ab, first.buffer(), into.buffer(), size, SendPath.FIXED_SEGMENT, 1);
            assertThat(ShmTransport.of(nb).stats().segmentReceived()).as("the peer mapped the segment").isEqualTo(1);
            List<Path> files = segmentFiles(nameOf(ab.address().toString()));
            assertThat(files).hasSize(1);
            int fd = ByteBuffer.wrap(Files.readAllBytes(files.get(0))).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                    .getInt(ShmSegment.FD_OFFSET);
            Path memory = Path.of("/proc/" + ProcessHandle.current().pid() + "/fd/" + fd);
            long memoryBytes = Files.size(memory);

            assertThat(truncate(files.get(0))).as("the file that names the segment is the user's to truncate").isZero();
            assertThat(truncate(memory)).as("the segment's memory is sealed: truncate fails").isNotZero();
            assertThat(Files.size(memory)).as("and keeps its size").isEqualTo(memoryBytes);

            Completion again = ShmPairInOneJvmTest.transfer(na, nb, a, b, ab, second.buffer(), into.buffer(), size,
                    SendPath.FIXED_SEGMENT, 2);
            assertThat(again.status()).as(again.detail()).isEqualTo(CompletionStatus.OK);
            assertThat(again.length()).isEqualTo(size);
            assertThat(into.buffer().slice(0, size)).as("the second message, seed " + seed)
                    .isEqualTo(second.buffer().slice(0, size));
            assertThat(ShmTransport.of(nb).stats().segmentReceived()).as("out of the mapping it already had").isEqualTo(2);
            assertThat(ShmTransport.of(nb).stats().dropped()).isZero();
        } finally {
            na.close();
            nb.close();
        }
        assertThat(ProcessStatus.vmLckBytes()).as("VmLck after close").isEqualTo(baseline);
    }

    private static void fill(SplittableRandom random, NativeBuffer... buffers) {
        for (NativeBuffer b : buffers) {
            for (int i = 0; i < b.capacity(); i++) {
                b.buffer().put(i, (byte) random.nextInt());
            }
        }
    }

    /** {@code truncate -s 0 path} in a process of its own; its exit status. */
    static int truncate(Path path) throws Exception {
        Process p = new ProcessBuilder("truncate", "-s", "0", path.toString()).redirectErrorStream(true).start();
        p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
        assertThat(p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).as("truncate ends").isTrue();
        return p.exitValue();
    }

    @Test
    void segmentFramesNamingUnsharedSegmentsOrBytesOutsideOneAreDroppedAndCounted() throws Exception {
        long baseline = ProcessStatus.vmLckBytes();
        long seed = Long.getLong("unetmm.test.seed", System.nanoTime());
        int slot = 16_384;
        int canary = 64;
        int buffers = 4;
        byte canaryByte = (byte) 0xA7;
        int stride = canary + slot + canary;
        Nic nic = ShmTwoProcessTest.open("shm:" + ShmPairInOneJvmTest.fresh("segvictim"));
        String hostileName;
        try (NativeBuffer memory = NativeMemory.allocate(buffers * stride)) {
            ByteBuffer all = memory.buffer();
            for (int i = 0; i < all.capacity(); i++) {
                all.put(i, canaryByte);
            }
            Endpoint endpoint = nic.openEndpoint(EndpointConfig.builder().freeQueue(buffers * 2).build());
            Channel listening = endpoint.openChannel();
            for (int b = 0; b < buffers; b++) {
                assertThat(endpoint.postReceive(all, b * stride + canary, slot, b).isPosted()).isTrue();
            }
            List<Completion> ok = new ArrayList<>();
            String[] statuses;
            try (PeerProcess hostile = PeerProcess.start(List.of(), HostileSegmentWriter.class, listening.address().toString(),
                    String.valueOf(seed))) {
                long deadline = System.nanoTime() + 30_000_000_000L;
                while (ok.isEmpty() && System.nanoTime() - deadline < 0) {
                    nic.progress();
                    for (Completion c; (c = endpoint.poll()) != null; ) {
                        if (c.status() == CompletionStatus.OK) {
                            ok.add(c);
                        }
                    }
                }
                for (int i = 0; i < 100; i++) {
                    nic.progress(); // the completions of the frames reach the hostile side
                }
                assertThat(ok).as("the valid frame after the hostile ones (seed " + seed + "); its stderr: "
                        + hostile.stderr()).hasSize(1);
                String[] done = hostile.awaitReady(Duration.ofSeconds(20));
                hostileName = done[0];
                statuses = done[1].split(",");
                assertThat(segmentFiles(hostileName)).as("the hostile peer's files while it lives (the forged one names a dead"
                        + " pid: any NIC that opens meanwhile sweeps it)").contains(ShmSegment.path(hostileName, 1),
                        ShmSegment.path(hostileName, 2));
                hostile.kill();
            }
            ShmStats stats = ShmTransport.of(nic).stats();
            Completion c = ok.get(0);
            ByteBuffer pattern = ByteBuffer.allocate(HostileSegmentWriter.SEGMENT);
            HostileShmWriter.pattern(pattern, HostileSegmentWriter.SEGMENT, seed);
            assertThat(c.length()).isEqualTo(HostileSegmentWriter.VALID);
            assertThat(all.slice((int) c.cookie() * stride + canary, c.length())).as("the valid frame byte-exact, seed " + seed)
                    .isEqualTo(pattern.slice(HostileSegmentWriter.VALID_AT, HostileSegmentWriter.VALID));
            for (int b = 0; b < buffers; b++) {
                for (int i = 0; i < canary; i++) {
                    assertThat(all.get(b * stride + i)).as("canary before buffer " + b).isEqualTo(canaryByte);
                    assertThat(all.get(b * stride + canary + slot + i)).as("canary after buffer " + b).isEqualTo(canaryByte);
                }
            }
            assertThat(stats.drops(ShmDropReason.UNKNOWN_SEGMENT)).as("segments 0, 99, 0644, another pid: " + stats.drops())
                    .isEqualTo(HostileSegmentWriter.UNKNOWN);
            assertThat(stats.drops(ShmDropReason.OUTSIDE_SEGMENT)).as("offsets -1, past the end, huge")
                    .isEqualTo(HostileSegmentWriter.OUTSIDE);
            assertThat(stats.segmentReceived()).isEqualTo(1);
            assertThat(statuses).as("the hostile side was told EFAULT for each refused frame, 0 for the valid one")
                    .containsExactly("1100:14", "1101:14", "1102:14", "1103:14", "1104:14", "1105:14", "1106:14", "1107:14",
                            "1001:0");
            endpoint.close();
            ShmDirectory.removeStale();
            Path readable = ShmSegment.path(hostileName, 2);
            assertThat(segmentFiles(hostileName)).as("the dead hostile process's 0600 segments are swept; the 0644 file is"
                    + " not a unetmm file of this user and is left alone").containsExactly(readable);
            Files.delete(readable);
        } finally {
            nic.close();
            HostileSegmentWriter.removeLeftovers(); // also when an assertion above failed
        }
        assertThat(ProcessStatus.vmLckBytes()).as("VmLck after close").isEqualTo(baseline);
    }

    @Test
    void aKilledPeersSegmentIsRemovedNothingStaysPinnedAndTheNameWorksAgain() throws Exception {
        long baseline = ProcessStatus.vmLckBytes();
        String name = ShmPairInOneJvmTest.fresh("segkill");
        int size = 1 << 20;
        for (int pair = 0; pair < 2; pair++) {
            Nic nic = ShmTwoProcessTest.open("shm:" + name + "?timeout=300");
            Endpoint endpoint = nic.openEndpoint(EndpointConfig.builder().segmentBytes(2 * size).build());
            try (EchoExchange exchange = new EchoExchange(endpoint, size)) {
                Channel pinned = endpoint.openChannel();
                Channel fixed = endpoint.openChannel();
                try (PeerProcess peer = PeerProcess.start(List.of(), UdpEchoPeer.class, "shm:", pinned.address().toString(),
                        fixed.address().toString(), "90", String.valueOf(size))) {
                    String[] ready = peer.awaitReady(Duration.ofSeconds(30));
                    fixed.connect(ChannelAddress.parse(ready[1]));
                    exchange.roundTrip(fixed, SendPath.FIXED_SEGMENT, size, 17 + pair, Duration.ofSeconds(5), 1);
                    String peerName = nameOf(ready[1]);
                    assertThat(segmentFiles(peerName)).as("the peer's segment while it lives").hasSize(1);
                    peer.kill();
                    long deadline = System.nanoTime() + 10_000_000_000L;
                    while (ShmTransport.of(nic).stats().peersLost() == 0 && System.nanoTime() - deadline < 0) {
                        nic.progress();
                    }
                    assertThat(ShmTransport.of(nic).stats().peersLost()).as("the killed peer is taken for dead").isEqualTo(1);
                    assertThat(segmentFiles(peerName)).as("the dead peer's segment is removed").isEmpty();
                }
                endpoint.close();
                assertThat(segmentFiles(name)).as("this NIC's segment goes with its endpoint").isEmpty();
            } finally {
                nic.close();
            }
            assertThat(segmentFiles(name)).isEmpty();
            assertThat(ProcessStatus.vmLckBytes()).as("VmLck after pair " + pair + " closed").isEqualTo(baseline);
        }
        ShmDirectory.removeStale(); // the killed peers' own homes, which the next NIC to open would sweep
    }
}
