package org.unetmm.nic.udp;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import org.unetmm.Channel;
import org.unetmm.ChannelAddress;
import org.unetmm.ChannelConfig;
import org.unetmm.Completion;
import org.unetmm.CompletionStatus;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
import org.unetmm.SendPath;
import org.unetmm.SendStatus;

/**
 * The far end of the reliable UDP tests: echoes every message that arrives on its reliable
 * channel, zero-copy from the posted buffer it landed in, which is posted again when the echo is
 * acknowledged. {@link #step()} does one round of work (for a peer inside the test's JVM);
 * {@link #main} runs it in a second JVM:
 * {@code ReliableEchoPeer <bind uri> <test's channel> <lifetime seconds> <max message>} prints
 * {@code READY <its channel>} and echoes until its standard input closes or its lifetime ends.
 */
public final class ReliableEchoPeer {
    static final int BUFFERS = 64;

    private final Endpoint endpoint;
    private final Channel channel;
    private final ByteBuffer[] buffers = new ByteBuffer[BUFFERS];
    private final ArrayDeque<Completion> toEcho = new ArrayDeque<>();
    long echoed;

    ReliableEchoPeer(Nic nic, ChannelConfig options, int maxMessage) {
        endpoint = nic.openEndpoint(EndpointConfig.builder().segmentBytes(0).freeQueue(BUFFERS).sendQueue(BUFFERS)
                .completionQueue(4 * BUFFERS).build());
        channel = endpoint.openChannel(options);
        for (int i = 0; i < BUFFERS; i++) {
            buffers[i] = ByteBuffer.allocateDirect(Math.max(1, maxMessage));
            endpoint.postReceive(buffers[i], i);
        }
    }

    Channel channel() {
        return channel;
    }

    int step() {
        int work = 0;
        Completion c;
        while ((c = endpoint.poll()) != null) {
            work++;
            if (c.kind() == Completion.Kind.RECEIVE && c.status() == CompletionStatus.OK) {
                toEcho.add(c);
            } else if (!endpoint.isClosed()) {
                endpoint.postReceive(buffers[(int) c.cookie()], c.cookie()); // echo acknowledged, or a failed receive
            }
        }
        while (!toEcho.isEmpty()) {
            Completion r = toEcho.peek();
            if (endpoint.send(channel, r.buffer(), r.offset(), r.length(), SendPath.PINNED, r.cookie()) != SendStatus.ACCEPTED) {
                break;
            }
            toEcho.poll();
            echoed++;
            work++;
        }
        return work;
    }

    public static void main(String[] args) throws Exception {
        String bind = args[0];
        ChannelAddress peer = ChannelAddress.parse(args[1]);
        long deadline = System.nanoTime() + Duration.ofSeconds(Long.parseLong(args[2])).toNanos();
        int maxMessage = Integer.parseInt(args[3]);
        PeerProcess.haltWhenParentGoes();
        try (Nic nic = Nic.open(NicConfig.builder().transport(bind).progressMode(ProgressMode.CALLER).build())) {
            ReliableEchoPeer echo = new ReliableEchoPeer(nic, ChannelConfig.reliable(), maxMessage);
            echo.channel.connect(peer);
            System.out.println("READY " + echo.channel.address());
            System.out.flush();
            while (System.nanoTime() - deadline < 0 && !echo.channel.isClosed()) {
                nic.progress();
                echo.step();
            }
        }
        System.exit(0);
    }
}
