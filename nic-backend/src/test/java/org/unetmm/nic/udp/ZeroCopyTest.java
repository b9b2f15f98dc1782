package org.unetmm.nic.udp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
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
import org.unetmm.pinning.ProcessStatus;

/**
 * {@code udp://…?zerocopy=BYTES} through the public API over real sockets: byte-exact on both send
 * paths with every send notified and, on loopback, every notice saying the kernel copied; a send
 * the kernel still holds (its datagram queued behind an ARP resolution on a veth that never answers)
 * completes only when the kernel's notice comes, and a NIC closed while it holds one releases the
 * pages anyway (VmLck back to the baseline); a bad value names the fix.
 */
@Timeout(60)
class ZeroCopyTest {
    private static final int LARGEST = 1 << 20;
    private static final int[] SIZES = {0, 64, 513, 4096, 16_384, 65_536, 200_000, LARGEST};
    private final long baseline = ProcessStatus.vmLckBytes();
    private Nic sender;
    private Nic receiver;

    private static Nic open(String uri) {
        return Nic.open(NicConfig.builder().transport(uri).progressMode(ProgressMode.CALLER).build());
    }

    @AfterEach
    void close() {
        if (sender != null) {
            sender.close();
        }
        if (receiver != null) {
            receiver.close();
        }
        assertThat(ProcessStatus.vmLckBytes()).as("VmLck after the NICs closed").isEqualTo(baseline);
    }

    @Test
    void zeroCopySendsAreByteExactAndOnLoopbackEveryNoticeSaysCopied() {
        long seed = Long.getLong("unetmm.test.seed", System.nanoTime());
        String why = "seed " + seed + " (rerun with -Dunetmm.test.seed=" + seed + ")";
        sender = open("udp://127.0.0.1:0?zerocopy=1");
        receiver = open("udp://127.0.0.1:0");
        Endpoint x = sender.openEndpoint(EndpointConfig.builder().segmentBytes(LARGEST + 4096).build());
        Endpoint y = receiver.openEndpoint();
        Channel there = y.openChannel();
        Channel here = x.openChannel().connect(there.address());
        there.connect(here.address());
        ByteBuffer source = ByteBuffer.allocateDirect(LARGEST);
        ByteBuffer target = ByteBuffer.allocateDirect(LARGEST);
        long cookie = 0;
        for (int size : SIZES) {
            for (SendPath path : SendPath.values()) {
                cookie++;
                EchoExchange.fill(source, size, seed + cookie);
                for (int i = 0; i < LARGEST; i += 8) {
                    target.putLong(i, 0xEEEE_EEEE_EEEE_EEEEL);
                }
                String what = size + " B on " + path + "; " + why;
                assertThat(y.postReceive(target, cookie).isPosted()).isTrue();
                assertThat(x.send(here, source, 0, size, path, cookie).isAccepted()).as(what).isTrue();
                Completion received = exchange(x, y, cookie, what);
                assertThat(received.length()).as(what).isEqualTo(size);
                assertThat(target.slice(0, size)).as("byte-exact: " + what).isEqualTo(source.slice(0, size));
            }
        }
        UdpStats stats = UdpTransport.of(sender).stats();
        assertThat(stats.zeroCopySends()).as("fragments over sendcopy went zero-copy; " + stats).isPositive();
        assertThat(stats.zeroCopyNotified()).as("every zero-copy send was notified; " + stats).isEqualTo(stats.zeroCopySends());
        assertThat(stats.zeroCopyNotices()).as(stats.toString()).isBetween(1L, stats.zeroCopySends());
        assertThat(stats.zeroCopyCopied()).as("loopback copies every one; " + stats).isEqualTo(stats.zeroCopyNotified());
        assertThat(UdpTransport.of(receiver).stats().zeroCopySends()).as("off unless asked").isZero();
    }

    /** Waits for the receive of the message and the (OK) send completion of {@code cookie}. */
    private Completion exchange(Endpoint x, Endpoint y, long cookie, String what) {
        Completion sent = null;
        Completion received = null;
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (received == null || sent == null) {
            assertThat(System.nanoTime() - deadline).as("the message arrives and its send completes: " + what + "; sender "
                    + UdpTransport.of(sender).stats() + " receiver " + UdpTransport.of(receiver).stats() + " " + sender.stats()).isNegative();
            sender.progress();
            receiver.progress();
            Completion c = x.poll();
            if (c != null) {
                assertThat(sent).as("one send completion: " + what).isNull();
                assertThat(c.status()).as(what + ": " + c.detail()).isEqualTo(CompletionStatus.OK);
                assertThat(c.cookie()).isEqualTo(cookie);
                sent = c.copy();
            }
            c = y.poll();
            if (c != null) {
                assertThat(c.status()).as(what + ": " + c.detail()).isEqualTo(CompletionStatus.OK);
                received = c.copy();
            }
        }
        return received;
    }

    @Test
    void aSendTheKernelStillHoldsCompletesOnlyWithItsNotice() throws Exception {
        String unavailable = VethPair.unavailableReason();
        Assumptions.assumeTrue(unavailable == null, () -> "skipped: " + unavailable);
        try (VethPair link = VethPair.create()) {
            Endpoint x = sendToSilentNeighbour(link, 1000, 7);
            UdpTransport wire = UdpTransport.of(sender);
            Completion done = null;
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (done == null) { // ARP gives up after 3 solicitations a second apart; then the skb is freed
                assertThat(System.nanoTime() - deadline).as("the kernel frees the skb when ARP fails").isNegative();
                sender.progress();
                done = x.poll();
                UdpStats stats = wire.stats();
                if (done == null && stats.zeroCopySends() == 1) {
                    assertThat(stats.zeroCopyNotified()).as("no completion before the notice; " + stats).isZero();
                }
            }
            UdpStats stats = wire.stats();
            assertThat(stats.zeroCopySends()).as(stats.toString()).isEqualTo(1);
            assertThat(stats.zeroCopyNotified()).as("the completion came with the notice; " + stats).isEqualTo(1);
            assertThat(done.status()).as(done.detail()).isEqualTo(CompletionStatus.OK);
            assertThat(done.cookie()).isEqualTo(7);
            sender.close();
            sender = null;
        }
    }

    @Test
    void closingWithANoticeStillDueLeavesNothingPinned() throws Exception {
        String unavailable = VethPair.unavailableReason();
        Assumptions.assumeTrue(unavailable == null, () -> "skipped: " + unavailable);
        try (VethPair link = VethPair.create()) {
            Endpoint x = sendToSilentNeighbour(link, 4000, 8);
            UdpTransport wire = UdpTransport.of(sender);
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (wire.stats().zeroCopySends() == 0) {
                assertThat(System.nanoTime() - deadline).as("the datagram goes to the kernel; " + wire.stats()).isNegative();
                sender.progress();
            }
            assertThat(wire.stats().zeroCopyNotified()).as("ARP has not failed yet: the kernel holds the pages").isZero();
            assertThat(x.poll()).as("no completion while the kernel holds the pages").isNull();
            assertThat(ProcessStatus.vmLckBytes()).as("the message's pages are pinned").isGreaterThan(baseline);
            x.close();
            Completion failed = x.poll();
            assertThat(failed).as("the endpoint's close failed the send the notice did not finish").isNotNull();
            assertThat(failed.status()).isNotEqualTo(CompletionStatus.OK);
            assertThat(failed.detail()).contains("zero-copy notice");
            sender.close();
            sender = null;
            assertThat(ProcessStatus.vmLckBytes()).as("VmLck back at the baseline").isEqualTo(baseline);
        }
    }

    /**
     * Opens the zero-copy sender on the veth and sends {@code size} pinned bytes to an address on its subnet
     * that no host answers ARP for: the datagram waits in the kernel's neighbour queue, its pages held.
     */
    private Endpoint sendToSilentNeighbour(VethPair link, int size, long cookie) {
        sender = open("udp://" + link.localAddress + ":0?zerocopy=1");
        Endpoint x = sender.openEndpoint();
        String subnet = link.localAddress.substring(0, link.localAddress.lastIndexOf('.'));
        Channel nowhere = x.openChannel().connect(new ChannelAddress("udp://" + subnet + ".77:9", 1));
        ByteBuffer message = ByteBuffer.allocateDirect(size);
        assertThat(x.send(nowhere, message, 0, size, SendPath.PINNED, cookie).isAccepted()).isTrue();
        return x;
    }

    @Test
    void aBadZeroCopyValueNamesTheFix() {
        assertThatThrownBy(() -> UdpConfig.parse("udp://127.0.0.1:0?zerocopy=-1"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("zerocopy=16384")
                .hasMessageContaining("drop the key");
        assertThatThrownBy(() -> UdpConfig.parse("udp://127.0.0.1:0?zerocopy=99999"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must be in 1..");
        assertThatThrownBy(() -> UdpConfig.parse("udp://127.0.0.1:0?zerocopy=big"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("whole number");
        UdpConfig on = UdpConfig.parse("udp://127.0.0.1:0?zerocopy=16384");
        assertThat(on.zeroCopy()).isEqualTo(16384);
        assertThat(UdpConfig.parse(on.toUri())).isEqualTo(on);
        assertThat(UdpConfig.parse("udp://127.0.0.1:0").zeroCopy()).as("off by default").isZero();
    }
}
