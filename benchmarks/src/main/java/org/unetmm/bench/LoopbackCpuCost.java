package org.unetmm.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import org.unetmm.Channel;
import org.unetmm.Completion;
import org.unetmm.CompletionHandler;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
import org.unetmm.SendPath;
import org.unetmm.SendStatus;
import org.unetmm.tlb.ReplacementPolicy;

/**
 * The 64 B loopback one-way cost as thread CPU time, a hand-run tool beside {@code SendPathBenchmark}:
 * one message at a time, caller-driven, the send, the progress rounds and both completions per message;
 * and the idle round (a progress and two empty polls). Each run prints the minimum over its rounds,
 * which on a shared machine is what the code costs (the rest is other work's interference); compare
 * builds by alternating runs of each. On a VM without performance counters this is the steadiest
 * figure there is: JMH throughput spreads ±30 % under load.
 *
 * <p>{@code java -cp unetmm.jar org.unetmm.bench.LoopbackCpuCost [rounds] [messages per round]}
 * (default 40 × 100,000, after 3 s of warm-up).
 */
public final class LoopbackCpuCost {
    private static final int SIZE = 64;
    private final Nic nic;
    private final Endpoint sender;
    private final Endpoint receiver;
    private final Channel channel;
    private final ByteBuffer source = ByteBuffer.allocateDirect(SIZE);
    private final ByteBuffer target = ByteBuffer.allocateDirect(SIZE);
    private int completions;
    private final CompletionHandler count = this::onCompletion;

    private LoopbackCpuCost() {
        nic = Nic.open(NicConfig.builder().progressMode(ProgressMode.CALLER).tlb(1024, 4, ReplacementPolicy.LRU).build());
        sender = nic.openEndpoint(EndpointConfig.builder().segmentBytes(1 << 20).build());
        receiver = nic.openEndpoint(EndpointConfig.builder().segmentBytes(0).build());
        channel = sender.openChannel();
        Channel back = receiver.openChannel();
        channel.connect(back.address());
        back.connect(channel.address());
    }

    private void onCompletion(Completion c) {
        if (!c.isSuccess()) {
            throw new IllegalStateException("operation failed: " + c);
        }
        completions++;
    }

    private void move(SendPath path) {
        receiver.postReceive(target, 0, SIZE, 0);
        if (sender.send(channel, source, 0, SIZE, path, 0) != SendStatus.ACCEPTED) {
            throw new IllegalStateException("send not accepted with nothing in flight");
        }
        completions = 0;
        while (completions < 2) {
            idle();
        }
    }

    private void idle() {
        nic.progress();
        sender.poll(count, 4);
        receiver.poll(count, 4);
    }

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 40;
        int messages = args.length > 1 ? Integer.parseInt(args[1]) : 100_000;
        LoopbackCpuCost m = new LoopbackCpuCost();
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long warm = System.nanoTime() + 3_000_000_000L;
        while (System.nanoTime() - warm < 0) {
            for (int i = 0; i < 10_000; i++) {
                m.move(SendPath.FIXED_SEGMENT);
                m.move(SendPath.PINNED);
                m.idle();
            }
        }
        double fixed = Double.MAX_VALUE;
        double pinned = Double.MAX_VALUE;
        double idle = Double.MAX_VALUE;
        for (int r = 0; r < rounds; r++) {
            long c0 = threads.getCurrentThreadCpuTime();
            for (int i = 0; i < messages; i++) {
                m.move(SendPath.FIXED_SEGMENT);
            }
            long c1 = threads.getCurrentThreadCpuTime();
            for (int i = 0; i < messages; i++) {
                m.move(SendPath.PINNED);
            }
            long c2 = threads.getCurrentThreadCpuTime();
            for (int i = 0; i < messages; i++) {
                m.idle();
            }
            long c3 = threads.getCurrentThreadCpuTime();
            fixed = Math.min(fixed, (c1 - c0) / (double) messages);
            pinned = Math.min(pinned, (c2 - c1) / (double) messages);
            idle = Math.min(idle, (c3 - c2) / (double) messages);
        }
        System.out.printf("thread CPU per 64 B loopback message, minimum of %d rounds of %,d: fixed %.1f ns, pinned %.1f ns;"
                + " idle round %.1f ns%n", rounds, messages, fixed, pinned, idle);
        m.nic.close();
    }
}
