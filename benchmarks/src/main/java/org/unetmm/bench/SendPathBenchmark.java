package org.unetmm.bench;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
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

/**
 * Loopback throughput per message size: the pinned path (one copy, pages translated through the
 * TLB), the fixed-segment path (copy into the segment, then copy out) and a plain ByteBuffer copy
 * of the same bytes (the physical bound), in one run. One message in flight, caller-driven
 * progress, so each op is one message sent, moved and received.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SendPathBenchmark {
    @Param({"64", "4096", "65536", "1048576"})
    public int size;

    private Nic nic;
    private Endpoint sender;
    private Endpoint receiver;
    private Channel channel;
    private ByteBuffer source;
    private ByteBuffer target;
    private int completions;
    private final CompletionHandler count = this::onCompletion;

    @Setup(Level.Trial)
    public void setUp() {
        nic = Nic.open(NicConfig.builder().progressMode(ProgressMode.CALLER).tlb(1024, 4,
                org.unetmm.tlb.ReplacementPolicy.LRU).build());
        sender = nic.openEndpoint(EndpointConfig.builder().segmentBytes(Math.max(2 * size, 1 << 20)).build());
        receiver = nic.openEndpoint(EndpointConfig.builder().segmentBytes(0).build());
        channel = sender.openChannel();
        Channel back = receiver.openChannel();
        channel.connect(back.address());
        back.connect(channel.address());
        source = ByteBuffer.allocateDirect(size);
        target = ByteBuffer.allocateDirect(size);
        for (int i = 0; i < size; i++) {
            source.put(i, (byte) i);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        nic.close();
    }

    private void onCompletion(Completion c) {
        if (!c.isSuccess()) {
            throw new IllegalStateException("operation failed: " + c);
        }
        completions++;
    }

    private int move(SendPath path) {
        receiver.postReceive(target, 0, size, 0);
        if (sender.send(channel, source, 0, size, path, 0) != SendStatus.ACCEPTED) {
            throw new IllegalStateException("send not accepted");
        }
        completions = 0;
        while (completions < 2) {
            nic.progress();
            sender.poll(count, 4);
            receiver.poll(count, 4);
        }
        return completions;
    }

    @Benchmark
    public int pinned() {
        return move(SendPath.PINNED);
    }

    @Benchmark
    public int fixedSegment() {
        return move(SendPath.FIXED_SEGMENT);
    }

    /** The physical bound: one copy of the same bytes between two direct buffers. */
    @Benchmark
    public ByteBuffer rawCopy() {
        return target.put(0, source, 0, size);
    }
}
