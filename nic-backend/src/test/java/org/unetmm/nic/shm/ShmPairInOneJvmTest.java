package org.unetmm.nic.shm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.unetmm.Channel;
import org.unetmm.Completion;
import org.unetmm.CompletionStatus;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
import org.unetmm.SendPath;
import org.unetmm.SendStatus;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.ProcessStatus;

/**
 * Two shm NICs of one JVM (one process reading itself with process_vm_readv, which the kernel
 * always allows): the wire's own behaviours, fast, before the two-process tests.
 */
@Timeout(60)
class ShmPairInOneJvmTest {
    static String fresh(String what) {
        return what + "-" + ProcessHandle.current().pid() + "-" + Long.toHexString(new SplittableRandom().nextLong());
    }

    static Nic open(String uri) {
        return Nic.open(NicConfig.builder().transport(uri).progressMode(ProgressMode.CALLER).build());
    }

    /** Sends {@code size} bytes a → b and returns b's receive completion after driving both NICs. */
    static Completion transfer(Nic na, Nic nb, Endpoint a, Endpoint b, Channel ab, ByteBuffer from, ByteBuffer into,
                               int size, SendPath path, long cookie) {
        assertThat(b.postReceive(into, 0, into.capacity(), cookie).isPosted()).isTrue();
        assertThat(a.send(ab, from, 0, size, path, cookie)).isEqualTo(SendStatus.ACCEPTED);
        Completion received = null;
        Completion sent = null;
        long deadline = System.nanoTime() + 5_000_000_000L;
        while ((received == null || sent == null) && System.nanoTime() - deadline < 0) {
            na.progress();
            nb.progress();
            Completion c;
            while ((c = a.poll()) != null) {
                assertThat(sent).as("one send completion").isNull();
                sent = c;
            }
            while ((c = b.poll()) != null) {
                assertThat(received).as("one receive completion").isNull();
                received = c;
            }
        }
        assertThat(sent).as("send completion of " + size + " B on " + path).isNotNull();
        assertThat(sent.status()).as(sent.detail()).isEqualTo(CompletionStatus.OK);
        assertThat(received).as("receive of " + size + " B on " + path).isNotNull();
        return received;
    }

    @Test
    void aSendToAPeerWhoseNicClosedFailsPeerUnreachableOnEveryPath() {
        Nic nb = open("shm:" + fresh("gone"));
        Nic na = open("shm:");
        try (NativeBuffer from = NativeMemory.allocate(65_536); NativeBuffer into = NativeMemory.allocate(65_536)) {
            Endpoint a = na.openEndpoint();
            Endpoint b = nb.openEndpoint();
            Channel ab = connect(a, b)[0];
            transfer(na, nb, a, b, ab, from.buffer(), into.buffer(), 100, SendPath.PINNED, 1);
            nb.close();
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (ShmTransport.of(na).stats().peersLost() == 0 && System.nanoTime() - deadline < 0) {
                na.progress(); // sees the peer's closed flag
            }
            assertThat(ShmTransport.of(na).stats().peersLost()).as("the closed peer is taken for gone").isEqualTo(1);
            int cookie = 10;
            for (SendPath path : SendPath.values()) {
                for (int size : new int[] {100, 65_536}) { // inline, and rendezvous or segment
                    assertThat(a.send(ab, from.buffer(), 0, size, path, cookie).isAccepted()).isTrue();
                    Completion c = null;
                    long until = System.nanoTime() + 5_000_000_000L;
                    while (c == null && System.nanoTime() - until < 0) {
                        na.progress();
                        c = a.poll();
                    }
                    assertThat(c).as("the send of %d B on %s completes", size, path).isNotNull();
                    assertThat(c.cookie()).isEqualTo(cookie);
                    assertThat(c.status()).as("%d B on %s to a closed peer: %s", size, path, c.detail())
                            .isEqualTo(CompletionStatus.PEER_UNREACHABLE);
                    cookie++;
                }
            }
        } finally {
            na.close();
            nb.close();
        }
    }

    /** A channel of {@code a} connected both ways with a new channel of {@code b}: {a's, b's}. */
    static Channel[] connect(Endpoint a, Endpoint b) {
        Channel ba = b.openChannel();
        Channel ab = a.connect(ba.address());
        ba.connect(ab.address());
        return new Channel[] {ab, ba};
    }

    /** This process's descriptors that are the shm wire's memfds ({@code /memfd:unetmm-...}). */
    static long memfds() throws java.io.IOException {
        try (java.util.stream.Stream<java.nio.file.Path> fds = Files.list(java.nio.file.Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString().startsWith("/memfd:unetmm-");
                } catch (java.io.IOException e) {
                    return false; // closed while listed (the listing's own descriptor)
                }
            }).count();
        }
    }

    @Test
    void nicsThatOpenPairSendOnBothPathsAndCloseLeaveNoMemfdOpen() throws Exception {
        long before = memfds();
        for (int round = 0; round < 10; round++) {
            Nic nb = open("shm:" + fresh("fds"));
            Nic na = open("shm:");
            try (NativeBuffer from = NativeMemory.allocate(65_536); NativeBuffer into = NativeMemory.allocate(65_536)) {
                Endpoint a = na.openEndpoint(EndpointConfig.builder().segmentBytes(1 << 17).build());
                Endpoint b = nb.openEndpoint();
                Channel ab = connect(a, b)[0];
                for (SendPath path : SendPath.values()) {
                    transfer(na, nb, a, b, ab, from.buffer(), into.buffer(), 65_536, path, 1);
                }
                assertThat(memfds() - before).as("two homes, a region and each endpoint's segment while they are open")
                        .isEqualTo(5);
            } finally {
                na.close();
                nb.close();
            }
        }
        assertThat(memfds()).as("every memfd closed with its NIC").isEqualTo(before);
    }

    /**
     * A process of the same user ({@code truncate(1)}) shrinks what it can reach of a pair's
     * region while both NICs have it mapped, and of a NIC's home: their files, and their memory
     * through /proc. Had the mappings been of the files, the next ring access of either side (and
     * the home's read in every round) would fault; the memory is sealed memfds, which cannot
     * shrink, and messages go on arriving byte-exact both ways.
     */
    @Test
    void aRegionAnotherProcessTriesToTruncateGoesOnCarryingMessagesByteExact() throws Exception {
        long seed = Long.getLong("unetmm.test.seed", System.nanoTime());
        SplittableRandom random = new SplittableRandom(seed);
        Nic nb = open("shm:" + fresh("trunc-srv"));
        Nic na = open("shm:");
        int size = 1 << 20;
        try (NativeBuffer from = NativeMemory.allocate(size); NativeBuffer into = NativeMemory.allocate(size)) {
            Endpoint a = na.openEndpoint();
            Endpoint b = nb.openEndpoint();
            Channel[] channels = connect(a, b);
            Channel ab = channels[0];
            Channel ba = channels[1];
            transfer(na, nb, a, b, ab, from.buffer(), into.buffer(), 100, SendPath.PINNED, 1);
            java.nio.file.Path pair = ShmDirectory.pair(ab.address().transportAddress().substring("shm:".length()),
                    ba.address().transportAddress().substring("shm:".length()));
            ByteBuffer head = ByteBuffer.wrap(Files.readAllBytes(pair)).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            java.nio.file.Path memory = java.nio.file.Path.of("/proc/" + head.getInt(ShmRegion.CREATOR_PID_OFFSET) + "/fd/"
                    + head.getInt(ShmRegion.MEMFD_OFFSET));
            long memoryBytes = Files.size(memory);

            assertThat(ShmFixedSegmentTest.truncate(pair)).as("the region's file is the user's to truncate").isZero();
            assertThat(ShmFixedSegmentTest.truncate(memory)).as("the region's memory is sealed: truncate fails").isNotZero();
            assertThat(Files.size(memory)).as("and keeps its size").isEqualTo(memoryBytes);
            java.nio.file.Path home = ShmDirectory.home(ba.address().transportAddress().substring("shm:".length()));
            ByteBuffer homeHead = ByteBuffer.wrap(Files.readAllBytes(home)).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            java.nio.file.Path homeMemory = java.nio.file.Path.of("/proc/" + homeHead.getInt(ShmDirectory.HOME_PID_OFFSET)
                    + "/fd/" + homeHead.getInt(ShmDirectory.HOME_MEMFD_OFFSET));
            assertThat(ShmFixedSegmentTest.truncate(home)).as("the home's file is the user's to truncate").isZero();
            assertThat(ShmFixedSegmentTest.truncate(homeMemory)).as("the page the NIC reads each round is sealed")
                    .isNotZero();

            for (int n : new int[] {100, 4096, size}) {
                for (Endpoint from2 : new Endpoint[] {a, b}) {
                    for (int i = 0; i < n; i++) {
                        from.buffer().put(i, (byte) random.nextInt());
                    }
                    boolean ba2 = from2 == b;
                    Completion r = ba2 ? transfer(nb, na, b, a, ba, from.buffer(), into.buffer(), n, SendPath.PINNED, n)
                            : transfer(na, nb, a, b, ab, from.buffer(), into.buffer(), n, SendPath.PINNED, n);
                    assertThat(r.status()).as(r.detail()).isEqualTo(CompletionStatus.OK);
                    assertThat(into.buffer().slice(0, n)).as(n + " B " + (ba2 ? "b -> a" : "a -> b") + ", seed " + seed)
                            .isEqualTo(from.buffer().slice(0, n));
                }
            }
            assertThat(ShmTransport.of(na).stats().dropped()).isZero();
            assertThat(ShmTransport.of(nb).stats().dropped()).isZero();
        } finally {
            na.close();
            nb.close();
        }
    }

    @Test
    void inlineAndRendezvousMessagesArriveByteExactAndPinsReturnToBaseline() {
        long baseline = ProcessStatus.vmLckBytes();
        long seed = Long.getLong("unetmm.test.seed", System.nanoTime());
        SplittableRandom random = new SplittableRandom(seed);
        String server = fresh("srv");
        Nic nb = open("shm:" + server);
        Nic na = open("shm:");
        int max = 2 << 20;
        try (NativeBuffer from = NativeMemory.allocate(max); NativeBuffer into = NativeMemory.allocate(max)) {
            Endpoint a = na.openEndpoint(EndpointConfig.builder().segmentBytes(max + 4096).build());
            Endpoint b = nb.openEndpoint();
            Channel[] channels = connect(a, b);
            Channel ab = channels[0];
            Channel ba = channels[1];
            for (int size : new int[] {0, 1, 100, 4096, 16384, 16385, 100_000, 1 << 20, max}) {
                for (SendPath path : SendPath.values()) {
                    for (int i = 0; i < size; i++) {
                        from.buffer().put(i, (byte) random.nextInt());
                    }
                    Completion r = transfer(na, nb, a, b, ab, from.buffer(), into.buffer(), size, path, size + 1);
                    assertThat(r.status()).as(r.detail()).isEqualTo(CompletionStatus.OK);
                    assertThat(r.length()).isEqualTo(size);
                    assertThat(into.buffer().slice(0, size)).as(size + " B on " + path + " seed " + seed)
                            .isEqualTo(from.buffer().slice(0, size));
                }
            }
            ShmStats sa = ShmTransport.of(na).stats();
            ShmStats sb = ShmTransport.of(nb).stats();
            assertThat(sa.rendezvousSent()).as("fragments past eager went by rendezvous: " + sa).isPositive();
            assertThat(sa.rendezvousCompleted()).isEqualTo(sa.rendezvousSent());
            assertThat(sb.rendezvousRead()).isEqualTo(sa.rendezvousSent());
            assertThat(sa.inlineSent()).isPositive();
            assertThat(sb.dropped()).as(sb.drops().toString()).isZero();
            a.close();
            b.close();
        } finally {
            na.close();
            nb.close();
        }
        assertThat(ProcessStatus.vmLckBytes()).as("VmLck after close").isEqualTo(baseline);
        assertThat(Files.exists(ShmDirectory.home(server))).as("home removed on close").isFalse();
        assertThat(ShmDirectory.peersOf(server)).as("regions removed on close").isEmpty();
    }

    @Test
    void aRendezvousSendCompletesOnlyOnceThePeerReadItAndItsPagesStayLockedUntilThen() {
        long baseline = ProcessStatus.vmLckBytes();
        long libraryBaseline = org.unetmm.pinning.LockedMemory.process().lockedBytes();
        Nic nb = open("shm:" + fresh("srv"));
        Nic na = open("shm:");
        int size = 1 << 20;
        try (NativeBuffer from = NativeMemory.allocate(size); NativeBuffer into = NativeMemory.allocate(size)) {
            Endpoint a = na.openEndpoint();
            Endpoint b = nb.openEndpoint();
            Channel[] channels = connect(a, b);
            Channel ab = channels[0];
            Channel ba = channels[1];
            for (int i = 0; i < size; i++) {
                from.buffer().put(i, (byte) (i * 17 + 3));
            }
            assertThat(b.postReceive(into.buffer(), 5).isPosted()).isTrue();
            assertThat(a.send(ab, from.buffer(), 0, size, SendPath.PINNED, 9)).isEqualTo(SendStatus.ACCEPTED);
            for (int round = 0; round < 100; round++) {
                na.progress(); // only the sender: nobody reads its pages
                assertThat(a.poll()).as("no completion before the peer read the pages").isNull();
            }
            ShmStats held = ShmTransport.of(na).stats();
            assertThat(held.rendezvousSent()).as(held.toString()).isEqualTo(size / na.mtu());
            assertThat(held.rendezvousCompleted()).isZero();
            long locked = org.unetmm.pinning.LockedMemory.process().lockedBytes() - libraryBaseline;
            assertThat(locked).as("the held pages are locked").isGreaterThanOrEqualTo(size);
            assertThat(ProcessStatus.vmLckBytes() - baseline).as("VmLck agrees with the library while held").isEqualTo(locked);
            Completion sent = null;
            Completion received = null;
            long deadline = System.nanoTime() + 5_000_000_000L;
            while ((sent == null || received == null) && System.nanoTime() - deadline < 0) {
                nb.progress();
                na.progress();
                sent = sent != null ? sent : a.poll();
                received = received != null ? received : b.poll();
            }
            assertThat(sent).isNotNull();
            assertThat(sent.status()).as(sent.detail()).isEqualTo(CompletionStatus.OK);
            assertThat(received).isNotNull();
            assertThat(into.buffer().slice(0, size)).isEqualTo(from.buffer().slice(0, size));
            assertThat(ProcessStatus.vmLckBytes() - baseline).as("VmLck agrees with the library after")
                    .isEqualTo(org.unetmm.pinning.LockedMemory.process().lockedBytes() - libraryBaseline);
            a.close();
            b.close();
        } finally {
            na.close();
            nb.close();
        }
        assertThat(ProcessStatus.vmLckBytes()).as("VmLck after close").isEqualTo(baseline);
    }

    @Test
    void aSmallPinnedMessageHasItsPageTranslatedOnceBySendingNic() {
        Nic nb = open("shm:" + fresh("once"));
        Nic na = open("shm:");
        int messages = 100;
        try (NativeBuffer from = NativeMemory.allocate(4096); NativeBuffer into = NativeMemory.allocate(4096)) {
            Endpoint a = na.openEndpoint(); // its fixed segment is shared: the wire looks where a fragment lies first
            Endpoint b = nb.openEndpoint();
            Channel ab = connect(a, b)[0];
            transfer(na, nb, a, b, ab, from.buffer(), into.buffer(), 64, SendPath.PINNED, 0); // the miss, and warm
            long before = na.stats().tlb().lookups();
            for (int i = 1; i <= messages; i++) {
                from.buffer().putLong(0, i);
                Completion r = transfer(na, nb, a, b, ab, from.buffer(), into.buffer(), 64, SendPath.PINNED, i);
                assertThat(r.status()).isEqualTo(CompletionStatus.OK);
                assertThat(into.buffer().getLong(0)).isEqualTo(i);
            }
            assertThat(na.stats().tlb().lookups() - before)
                    .as("sender TLB lookups for %d inline 64 B messages from one page: looking where it lies and copying it"
                            + " are one transfer", messages)
                    .isEqualTo(messages);
            a.close();
            b.close();
        } finally {
            na.close();
            nb.close();
        }
    }

    /**
     * Twenty small messages waiting in the ring are completed {@code messages} per round of the
     * receiving NIC, the rest left in the ring for the rounds after, in order and byte-exact.
     */
    @ParameterizedTest(name = "messages={0}")
    @ValueSource(ints = {1, 8, 64})
    void messagesWaitingInTheRingCompleteAtMostMessagesPerRound(int perPoll) {
        Nic nb = open("shm:" + fresh("burst") + "?messages=" + perPoll);
        Nic na = open("shm:");
        int burst = 20;
        try (NativeBuffer from = NativeMemory.allocate(burst * 64); NativeBuffer into = NativeMemory.allocate(burst * 64)) {
            Endpoint a = na.openEndpoint();
            Endpoint b = nb.openEndpoint();
            Channel ab = connect(a, b)[0];
            transfer(na, nb, a, b, ab, from.buffer(), into.buffer().slice(0, 64), 64, SendPath.PINNED, 99); // warm
            for (int i = 0; i < burst; i++) {
                from.buffer().putLong(i * 64, 1000 + i);
                assertThat(b.postReceive(into.buffer(), i * 64, 64, i).isPosted()).isTrue();
                assertThat(a.send(ab, from.buffer(), i * 64, 64, SendPath.PINNED, i)).isEqualTo(SendStatus.ACCEPTED);
            }
            na.progress(); // one round: the burst is in the ring
            java.util.List<Long> received = new java.util.ArrayList<>();
            int rounds = 0;
            while (received.size() < burst) {
                assertThat(rounds++).as("rounds for %d messages, %d a round", burst, perPoll).isLessThan(burst + 10);
                nb.progress();
                int before = received.size();
                for (Completion c; (c = b.poll()) != null; ) {
                    assertThat(c.status()).isEqualTo(CompletionStatus.OK);
                    received.add(c.cookie());
                }
                assertThat(received.size() - before).as("messages completed by one round after " + before)
                        .isEqualTo(Math.min(perPoll, burst - before));
            }
            for (int i = 0; i < burst; i++) {
                assertThat(received.get(i)).as("in order").isEqualTo(i);
                assertThat(into.buffer().getLong(i * 64)).as("message " + i + " byte-exact").isEqualTo(1000 + i);
            }
            for (Completion c; (c = a.poll()) != null; ) {
                assertThat(c.status()).isEqualTo(CompletionStatus.OK);
            }
            a.close();
            b.close();
        } finally {
            na.close();
            nb.close();
        }
    }

    @Test
    void withCrossMemoryAttachOffEveryFragmentTravelsInline() {
        Nic nb = open("shm:" + fresh("srv") + "?cma=false");
        Nic na = open("shm:");
        int size = 300_000;
        try (NativeBuffer from = NativeMemory.allocate(size); NativeBuffer into = NativeMemory.allocate(size)) {
            Endpoint a = na.openEndpoint();
            Endpoint b = nb.openEndpoint();
            Channel[] channels = connect(a, b);
            Channel ab = channels[0];
            Channel ba = channels[1];
            for (int i = 0; i < size; i++) {
                from.buffer().put(i, (byte) (i * 31 + 7));
            }
            Completion r = transfer(na, nb, a, b, ab, from.buffer(), into.buffer(), size, SendPath.PINNED, 1);
            assertThat(r.status()).isEqualTo(CompletionStatus.OK);
            assertThat(into.buffer().slice(0, size)).isEqualTo(from.buffer().slice(0, size));
            assertThat(ShmTransport.of(nb).rendezvousEnabled()).isFalse();
            assertThat(ShmTransport.of(na).stats().rendezvousSent()).as("the peer cannot read: inline only").isZero();
            a.close();
            b.close();
        } finally {
            na.close();
            nb.close();
        }
    }

    @Test
    void aNameInUseAndAMissingPeerAreTypedErrorsThatNameTheFix() {
        String name = fresh("dup");
        try (Nic first = open("shm:" + name)) {
            assertThatThrownBy(() -> open("shm:" + name)).isInstanceOf(ShmException.class)
                    .hasStackTraceContaining("already open");
            Endpoint e = first.openEndpoint();
            assertThatThrownBy(() -> e.connect(org.unetmm.ChannelAddress.parse("shm:" + fresh("nobody") + "/1")))
                    .hasMessageContaining("open one with NicConfig transport");
        }
        assertThatThrownBy(() -> ShmConfig.parse("shm:x?eager=abc")).hasMessageContaining("eager must be a whole number");
        assertThatThrownBy(() -> ShmConfig.parse("shm:x?ring=1000")).hasMessageContaining("power of two");
        assertThatThrownBy(() -> ShmConfig.parse("shm:x?bogus=1")).hasMessageContaining("the keys are");
        assertThatThrownBy(() -> ShmConfig.parse("shm:x?messages=0")).hasMessageContaining("messages (messages one poll"
                + " completes) must be in 1..65536");
        assertThat(ShmConfig.parse("shm:x").pollMessages()).isEqualTo(ShmConfig.DEFAULT_POLL_MESSAGES);
    }
}
