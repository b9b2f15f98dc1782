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
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.unetmm.Channel;
import org.unetmm.Completion;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
import org.unetmm.SendPath;
import org.unetmm.SendStatus;

/**
 * What the endpoint's one-thread-a-side check costs on the 64 B send path: the same round (post a
 * receive, send 64 B on the PINNED path, progress, poll both completions — three guarded calls
 * and their polls) in a fork with the check on (the default) and in one with it off
 * ({@code -Dunetmm.endpoint.threadCheck=false}), side by side in one run. Alternate forks
 * ({@code -f 2}) to see the spread.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class EndpointThreadCheckBenchmark {
    private static final int SIZE = 64;
    private Nic nic;
    private Endpoint sender;
    private Endpoint receiver;
    private Channel channel;
    private final ByteBuffer source = ByteBuffer.allocateDirect(SIZE);
    private final ByteBuffer target = ByteBuffer.allocateDirect(SIZE);

    @Setup(Level.Trial)
    public void setUp() {
        nic = Nic.open(NicConfig.builder().progressMode(ProgressMode.CALLER).build());
        sender = nic.openEndpoint(EndpointConfig.builder().segmentBytes(0).build());
        receiver = nic.openEndpoint(EndpointConfig.builder().segmentBytes(0).build());
        channel = sender.openChannel();
        Channel back = receiver.openChannel();
        channel.connect(back.address());
        back.connect(channel.address());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        nic.close();
    }

    private int round() {
        receiver.postReceive(target, 0, SIZE, 0);
        if (sender.send(channel, source, 0, SIZE, SendPath.PINNED, 0) != SendStatus.ACCEPTED) {
            throw new IllegalStateException("send not accepted");
        }
        int done = 0;
        while (done < 2) {
            nic.progress();
            done += take(sender) + take(receiver);
        }
        return done;
    }

    private static int take(Endpoint endpoint) {
        Completion c = endpoint.poll();
        if (c == null) {
            return 0;
        }
        if (!c.isSuccess()) {
            throw new IllegalStateException("operation failed: " + c);
        }
        return 1;
    }

    @Benchmark
    @Fork(1)
    public int checkOn() {
        return round();
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = "-Dunetmm.endpoint.threadCheck=false")
    public int checkOff() {
        return round();
    }
}
