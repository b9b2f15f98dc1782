package org.unetmm.nic.udp;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
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
import org.unetmm.SendStatus;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;

/**
 * The far end of the cross-process tests: a second JVM that echoes every message it receives,
 * on the same channel, on the send path the channel stands for.
 *
 * <p>{@code UdpEchoPeer <bind uri> <pinned peer channel> <fixed peer channel> <lifetime seconds> <max message>}
 * opens a NIC bound to {@code <bind uri>}, connects one channel to each of the test's channels
 * (the first echoes on the PINNED path, the second on FIXED_SEGMENT), prints
 * {@code READY <pinned channel address> <fixed channel address>} and echoes until its standard
 * input closes (the test is gone), or its lifetime runs out.
 */
public final class UdpEchoPeer {
    private static final int BUFFERS = 4;

    private UdpEchoPeer() {
    }

    public static void main(String[] args) throws Exception {
        String bind = args[0];
        ChannelAddress pinnedPeer = ChannelAddress.parse(args[1]);
        ChannelAddress fixedPeer = ChannelAddress.parse(args[2]);
        long deadline = System.nanoTime() + Duration.ofSeconds(Long.parseLong(args[3])).toNanos();
        int maxMessage = Integer.parseInt(args[4]);
        PeerProcess.haltWhenParentGoes();

        try (Nic nic = Nic.open(NicConfig.builder().transport(bind).progressMode(ProgressMode.CALLER).build());
             Endpoint endpoint = nic.openEndpoint(EndpointConfig.builder().segmentBytes(2 * maxMessage + 4096)
                     .freeQueue(2 * BUFFERS).build())) {
            Channel pinned = endpoint.connect(pinnedPeer);
            Channel fixed = endpoint.connect(fixedPeer);
            NativeBuffer[] buffers = new NativeBuffer[BUFFERS];
            for (int i = 0; i < BUFFERS; i++) {
                buffers[i] = NativeMemory.allocate(Math.max(1, maxMessage));
                endpoint.postReceive(buffers[i].buffer(), i);
            }
            System.out.println("READY " + pinned.address() + " " + fixed.address());
            System.out.flush();
            ArrayDeque<Completion> toEcho = new ArrayDeque<>();
            while (System.nanoTime() - deadline < 0) {
                nic.progress();
                Completion c;
                while ((c = endpoint.poll()) != null) {
                    if (c.kind() == Completion.Kind.RECEIVE) {
                        if (c.status() == CompletionStatus.OK) {
                            toEcho.add(c);
                        } else {
                            endpoint.postReceive(buffers[(int) c.cookie()].buffer(), c.cookie());
                        }
                    } else if (c.cookie() >= 0) {
                        endpoint.postReceive(buffers[(int) c.cookie()].buffer(), c.cookie()); // the pinned send is done
                    }
                }
                while (!toEcho.isEmpty()) {
                    Completion r = toEcho.peek();
                    boolean onPinned = r.channel() == pinned;
                    SendStatus status = endpoint.send(r.channel(), r.buffer(), r.offset(), r.length(),
                            onPinned ? SendPath.PINNED : SendPath.FIXED_SEGMENT, onPinned ? r.cookie() : -1);
                    if (!status.isAccepted()) {
                        break; // queue or segment full: progress, then try again
                    }
                    toEcho.poll();
                    if (!onPinned) {
                        endpoint.postReceive(buffers[(int) r.cookie()].buffer(), r.cookie()); // copied already
                    }
                }
            }
        }
        System.exit(0);
    }
}
