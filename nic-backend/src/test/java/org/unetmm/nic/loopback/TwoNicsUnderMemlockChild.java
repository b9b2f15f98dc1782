package org.unetmm.nic.loopback;

import java.nio.ByteBuffer;
import java.time.Duration;
import org.unetmm.Channel;
import org.unetmm.Completion;
import org.unetmm.CompletionStatus;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.SendPath;
import org.unetmm.pinning.ChildResult;
import org.unetmm.pinning.LockedMemory;
import org.unetmm.pinning.ProcessStatus;

/**
 * The child JVM of {@link TwoNicsShareLockedMemoryTest}: as an ordinary user (no CAP_IPC_LOCK,
 * RLIMIT_MEMLOCK as given), two NICs with default pin settings move a pinned message of the given
 * size between them a few times, intact, with VmLck within the limit. Prints one
 * {@code RESULT OK twoNics key=value...} line and exits 0, or {@code RESULT FAIL} and exits 1.
 */
public final class TwoNicsUnderMemlockChild {
    private static final int ROUNDS = 3;

    private TwoNicsUnderMemlockChild() {
    }

    public static void main(String[] args) {
        ChildResult.report(() -> twoNics(Long.parseLong(args[0]), Integer.parseInt(args[1])));
    }

    private static String twoNics(long limit, int size) {
        check(!ProcessStatus.hasCapIpcLock(), "the child holds CAP_IPC_LOCK");
        check(LockedMemory.process().limitBytes() == limit, "process limit " + LockedMemory.process());
        long baseline = ProcessStatus.vmLckBytes();
        long peak = 0;
        // default endpoints (1 MiB fixed segments) and default NICs, as an ordinary user's application has them
        EndpointConfig endpoints = EndpointConfig.defaults();
        NicConfig nics = NicConfig.defaults();
        long slowest = 0;
        try (Nic sender = Nic.open(nics); Nic receiver = Nic.open(nics);
             Endpoint x = sender.openEndpoint(endpoints); Endpoint y = receiver.openEndpoint(endpoints)) {
            Channel xy = x.openChannel();
            Channel yx = y.openChannel();
            xy.connect(yx.address());
            yx.connect(xy.address());
            for (int round = 0; round < ROUNDS; round++) {
                ByteBuffer source = ByteBuffer.allocateDirect(size);
                for (int i = 0; i < size; i++) {
                    source.put(i, (byte) (i * 7 + round * 13 + (i >>> 12)));
                }
                ByteBuffer target = ByteBuffer.allocateDirect(size);
                check(y.postReceive(target, round).isPosted(), "free queue full");
                long sendAt = System.nanoTime();
                check(x.send(xy, source, 0, size, SendPath.PINNED, round) == org.unetmm.SendStatus.ACCEPTED, "send refused");
                Completion sent = x.await(Duration.ofSeconds(60));
                check(sent != null, "round " + round + ": no send completion");
                String sendResult = sent.status() + " " + sent.detail();
                check(sent.status() == CompletionStatus.OK, "round " + round + ": send " + sendResult);
                Completion received = y.await(Duration.ofSeconds(60));
                check(received != null, "round " + round + ": no receive completion");
                check(received.status() == CompletionStatus.OK && received.length() == size,
                        "round " + round + ": receive " + received.status() + " " + received.length() + " " + received.detail());
                check(target.equals(source), "round " + round + ": the message arrived altered");
                slowest = Math.max(slowest, System.nanoTime() - sendAt);
                long locked = ProcessStatus.vmLckBytes() - baseline;
                peak = Math.max(peak, locked);
                check(locked <= limit, "round " + round + ": VmLck " + locked + " over the limit " + limit);
                check(locked == LockedMemory.process().lockedBytes(),
                        "round " + round + ": VmLck " + locked + " vs the process's count " + LockedMemory.process());
            }
        }
        check(ProcessStatus.vmLckBytes() == baseline, "VmLck not back at baseline after close");
        return "twoNics limit=" + limit + " size=" + size + " rounds=" + ROUNDS + " intact=true peakLocked=" + peak
                + " processPeak=" + LockedMemory.process().peakLockedBytes() + " slowestTransferMs=" + slowest / 1_000_000;
    }

    private static void check(boolean condition, String failure) {
        if (!condition) {
            throw new IllegalStateException(failure);
        }
    }
}
