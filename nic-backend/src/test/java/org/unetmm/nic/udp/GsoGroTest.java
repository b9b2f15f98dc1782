package org.unetmm.nic.udp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.unetmm.Channel;
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
 * UDP GSO on the sender and UDP GRO on the receiver, each on and off, over real sockets on
 * loopback with the NIC's MTU cut to {@value #MTU} bytes, so a large message leaves as fragments
 * of a link-sized path and runs of them become super-datagrams: every combination (a receiver
 * without GRO meeting a GSO sender included) delivers the same bytes, byte-exact, with exactly
 * one send completion per message; the super-datagram path is really taken when on and never
 * when off; the sender's datagrams on the wire are the receiver's, one for one.
 */
@Timeout(90)
class GsoGroTest {
    private static final int MTU = 1400;
    private static final int LARGEST = 256 * 1024;
    private static final int[] SIZES = {0, 1, 64, MTU - 1, MTU, MTU + 1, 10 * MTU + 7, 65_536, LARGEST};
    private final long baseline = ProcessStatus.vmLckBytes();
    private Nic sender;
    private Nic receiver;

    private static Nic open(String uri) {
        return Nic.open(NicConfig.builder().transport(uri).mtu(MTU).progressMode(ProgressMode.CALLER).build());
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

    @ParameterizedTest(name = "gso={0} gro={1}")
    @CsvSource({"true,true", "true,false", "false,true", "false,false"})
    void everyCombinationOfGsoAndGroDeliversTheSameBytesOnceEach(boolean gso, boolean gro) {
        long seed = Long.getLong("unetmm.test.seed", System.nanoTime());
        String why = "seed " + seed + " (rerun with -Dunetmm.test.seed=" + seed + "), gso=" + gso + " gro=" + gro;
        sender = open("udp://127.0.0.1:0?gso=" + gso + "&gro=" + gro);
        receiver = open("udp://127.0.0.1:0?gso=" + gso + "&gro=" + gro);
        UdpTransport out = UdpTransport.of(sender);
        UdpTransport in = UdpTransport.of(receiver);
        assertThat(out.features()).as("this kernel takes both (5.0 and later)").isEqualTo(new UdpTransport.Features(gso, gro));
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
                EchoExchange.fill(source, size, seed + size);
                for (int i = 0; i < LARGEST; i += 8) {
                    target.putLong(i, 0xEEEE_EEEE_EEEE_EEEEL);
                }
                assertThat(y.postReceive(target, cookie).isPosted()).isTrue();
                assertThat(x.send(here, source, 0, size, path, cookie).isAccepted()).as(why).isTrue();
                String what = size + " B on " + path + "; " + why;
                Completion received = exchange(x, y, cookie, what);
                assertThat(received.status()).as(what).isEqualTo(CompletionStatus.OK);
                assertThat(received.length()).as(what).isEqualTo(size);
                assertThat(target.slice(0, size)).as("byte-exact: " + what).isEqualTo(source.slice(0, size));
            }
        }
        for (int i = 0; i < 1000; i++) { // nothing more arrives: no second completion of any send
            sender.progress();
            receiver.progress();
            assertThat(x.poll()).as("no further completion; " + why).isNull();
            assertThat(y.poll()).as("no further receive; " + why).isNull();
        }
        UdpStats sent = out.stats();
        UdpStats got = in.stats();
        String report = why + "; sender " + sent + "; receiver " + got;
        assertThat(got.dropped()).as(report).isZero();
        assertThat(got.datagramsReceived()).as("datagrams on the wire, one for one; " + report).isEqualTo(sent.datagramsSent());
        if (gso) {
            assertThat(sent.gsoSends()).as("super-datagrams sent; " + report).isPositive();
            assertThat(sent.gsoSegments()).as(report).isGreaterThan(2 * sent.gsoSends());
        } else {
            assertThat(sent.gsoSends()).as(report).isZero();
            assertThat(sent.gsoSegments()).as(report).isZero();
        }
        if (gso && gro) {
            assertThat(got.groRuns()).as("runs received whole; " + report).isPositive();
            assertThat(got.groSegments()).as(report).isGreaterThan(2 * got.groRuns());
        } else {
            assertThat(got.groRuns()).as("no run arrives whole without both; " + report).isZero();
        }
    }

    /** Waits for the receive of the message and the send completion of {@code cookie}, the latter exactly once. */
    private Completion exchange(Endpoint x, Endpoint y, long cookie, String what) {
        Set<Long> completed = new HashSet<>();
        Completion received = null;
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (received == null || completed.isEmpty()) {
            assertThat(System.nanoTime() - deadline).as("the message arrives and its send completes: " + what).isNegative();
            sender.progress();
            receiver.progress();
            for (Completion c; (c = x.poll()) != null; ) {
                assertThat(c.kind()).isEqualTo(Completion.Kind.SEND);
                assertThat(c.status()).as(what + ": " + c.detail()).isEqualTo(CompletionStatus.OK);
                assertThat(c.cookie()).as(what).isEqualTo(cookie);
                assertThat(completed.add(c.cookie())).as("one send completion: " + what).isTrue();
            }
            Completion c = y.poll();
            if (c != null) {
                assertThat(received).as("one receive: " + what).isNull();
                received = c.copy();
            }
        }
        return received;
    }

    @Test
    void gsoAndGroAreOnByDefaultAndOffByUriKey() {
        UdpConfig defaults = UdpConfig.parse("udp://127.0.0.1:0");
        assertThat(defaults.gso()).isTrue();
        assertThat(defaults.gro()).isTrue();
        UdpConfig off = UdpConfig.parse("udp://127.0.0.1:0?gso=false&gro=false");
        assertThat(off.gso()).isFalse();
        assertThat(off.gro()).isFalse();
        assertThat(off.toUri()).isEqualTo("udp://127.0.0.1:0?gso=false&gro=false");
        assertThat(UdpConfig.parse(off.toUri())).isEqualTo(off);
        assertThat(UdpConfig.parse(defaults.toUri())).isEqualTo(defaults);
        assertThatThrownBy(() -> UdpConfig.parse("udp://127.0.0.1:0?gso=no"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("true or false");
        sender = open("udp://127.0.0.1:0?gso=false");
        assertThat(UdpTransport.of(sender).features()).isEqualTo(new UdpTransport.Features(false, true));
        assertThat(UdpTransport.kernelFeatures()).as("this kernel (5.0 and later) takes both")
                .isEqualTo(new UdpTransport.Features(true, true));
    }

    @Test
    void aGroRunWithAnImpossibleSegmentSizeIsRefused() {
        int run = 10 * 1472 + 100;
        assertThat(GroRun.check(0, run)).isEqualTo(WireDropReason.BAD_SEGMENT_SIZE);
        assertThat(GroRun.check(-1472, run)).isEqualTo(WireDropReason.BAD_SEGMENT_SIZE);
        assertThat(GroRun.check(WireFrame.HEADER_LENGTH - 1, run)).isEqualTo(WireDropReason.BAD_SEGMENT_SIZE);
        assertThat(GroRun.check(run + 1, run)).isEqualTo(WireDropReason.BAD_SEGMENT_SIZE);
        assertThat(GroRun.check(1472, run)).isNull();
        assertThat(GroRun.check(run, run)).as("a run of one segment").isNull();
        assertThat(GroRun.check(WireFrame.HEADER_LENGTH, run)).as("header-only frames").isNull();
    }
}
