package org.unetmm.nic.shm;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.unetmm.Channel;
import org.unetmm.ChannelAddress;
import org.unetmm.Completion;
import org.unetmm.CompletionStatus;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.SendPath;
import org.unetmm.SendStatus;
import org.unetmm.nic.udp.PeerProcess;
import org.unetmm.nic.udp.UdpEchoPeer;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;

/**
 * Not a test (speed is measured, not asserted): round trips to an echo in a second JVM per wire,
 * every configuration alive at once and the repeats interleaved (A B A B), printing the median,
 * min and max of each in GB/s of payload moved both ways. Run by hand:
 * {@code java -cp <test classpath> org.unetmm.nic.shm.ShmVsUdpMeasure [size] [repeats] [round trips]}.
 * With {@code curve} as first argument it sweeps sizes over shm with everything inline against
 * everything by rendezvous, to choose the eager threshold.
 */
public final class ShmVsUdpMeasure {
    private record Wire(String label, Nic nic, Endpoint endpoint, Channel pinned, Channel fixed, PeerProcess peer) {
    }

    private ShmVsUdpMeasure() {
    }

    public static void main(String[] args) throws Exception {
        boolean curve = args.length > 0 && args[0].equals("curve");
        int repeats = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        int trips = args.length > 2 ? Integer.parseInt(args[2]) : 50;
        int max = curve ? 256 * 1024 : (args.length > 0 ? Integer.parseInt(args[0]) : 1 << 20);
        Map<String, String[]> wires = new LinkedHashMap<>();
        if (curve) {
            wires.put("shm inline", new String[] {"shm:" + ShmPairInOneJvmTest.fresh("in") + "?eager=262000", "shm:?eager=262000"});
            wires.put("shm rendezvous", new String[] {"shm:" + ShmPairInOneJvmTest.fresh("rv") + "?eager=0", "shm:?eager=0"});
        } else {
            wires.put("shm", new String[] {"shm:" + ShmPairInOneJvmTest.fresh("m"), "shm:"});
            wires.put("udp", new String[] {"udp://127.0.0.1:0", "udp://127.0.0.1:0"});
        }
        List<Wire> open = new ArrayList<>();
        try (NativeBuffer source = NativeMemory.allocate(max); NativeBuffer target = NativeMemory.allocate(max)) {
            for (Map.Entry<String, String[]> w : wires.entrySet()) {
                Nic nic = ShmTwoProcessTest.open(w.getValue()[0]);
                Endpoint e = nic.openEndpoint(EndpointConfig.builder().segmentBytes(2 * max + 4096).build());
                Channel p = e.openChannel();
                Channel f = e.openChannel();
                PeerProcess peer = PeerProcess.start(List.of(), UdpEchoPeer.class, w.getValue()[1], p.address().toString(),
                        f.address().toString(), "600", String.valueOf(max));
                String[] ready = peer.awaitReady(Duration.ofSeconds(30));
                p.connect(ChannelAddress.parse(ready[0]));
                f.connect(ChannelAddress.parse(ready[1]));
                open.add(new Wire(w.getKey(), nic, e, p, f, peer));
            }
            int[] sizes = curve ? new int[] {4096, 8192, 16384, 32768, 65536, 131072, 262144} : new int[] {max};
            for (int size : sizes) {
                Map<String, double[]> results = new LinkedHashMap<>();
                for (Wire w : open) {
                    for (SendPath path : SendPath.values()) {
                        roundTrips(w, path, source, target, size, trips / 5 + 1); // warm up
                        results.put(w.label + " " + path, new double[repeats]);
                    }
                }
                for (int r = 0; r < repeats; r++) {
                    for (Wire w : open) {
                        for (SendPath path : SendPath.values()) {
                            long t = roundTrips(w, path, source, target, size, trips);
                            results.get(w.label + " " + path)[r] = 2.0 * size * trips / t; // bytes per ns = GB/s
                        }
                    }
                }
                for (Map.Entry<String, double[]> e : results.entrySet()) {
                    double[] v = e.getValue().clone();
                    Arrays.sort(v);
                    System.out.printf("%8d B  %-26s median %6.2f GB/s  min %6.2f  max %6.2f%n", size, e.getKey(), v[v.length / 2],
                            v[0], v[v.length - 1]);
                }
            }
        } finally {
            for (Wire w : open) {
                w.peer.close();
                w.nic.close();
            }
        }
        System.exit(0);
    }

    /** {@code count} round trips of {@code size} bytes on {@code path}; returns the nanoseconds they took. */
    private static long roundTrips(Wire w, SendPath path, NativeBuffer source, NativeBuffer target, int size, int count) {
        Channel channel = path == SendPath.PINNED ? w.pinned : w.fixed;
        long start = System.nanoTime();
        for (int i = 0; i < count; i++) {
            if (!w.endpoint.postReceive(target.buffer(), 0, size, i).isPosted()) {
                throw new IllegalStateException("post refused");
            }
            if (w.endpoint.send(channel, source.buffer(), 0, size, path, i) != SendStatus.ACCEPTED) {
                throw new IllegalStateException("send refused");
            }
            boolean sent = false;
            boolean received = false;
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!(sent && received)) {
                w.nic.progress();
                Completion c;
                while ((c = w.endpoint.poll()) != null) {
                    if (c.status() != CompletionStatus.OK) {
                        throw new IllegalStateException(w.label + " " + path + ": " + c.status() + " " + c.detail());
                    }
                    if (c.kind() == Completion.Kind.SEND) {
                        sent = true;
                    } else {
                        received = true;
                    }
                }
                if (System.nanoTime() - deadline > 0) {
                    throw new IllegalStateException(w.label + " " + path + ": no echo of " + size + " B in 10 s (udp loss?)");
                }
            }
        }
        return System.nanoTime() - start;
    }
}
