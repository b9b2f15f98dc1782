package org.unetmm.nic.shm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
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
            Channel ba = b.openChannel();
            Channel ab = a.connect(ba.address());
            ba.connect(ab.address());
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
            Channel ba = b.openChannel();
            Channel ab = a.connect(ba.address());
            ba.connect(ab.address());
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
    void withCrossMemoryAttachOffEveryFragmentTravelsInline() {
        Nic nb = open("shm:" + fresh("srv") + "?cma=false");
        Nic na = open("shm:");
        int size = 300_000;
        try (NativeBuffer from = NativeMemory.allocate(size); NativeBuffer into = NativeMemory.allocate(size)) {
            Endpoint a = na.openEndpoint();
            Endpoint b = nb.openEndpoint();
            Channel ba = b.openChannel();
            Channel ab = a.connect(ba.address());
            ba.connect(ab.address());
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
    }
}
