package org.unetmm.pinning;

import java.nio.ByteBuffer;
import java.util.function.Supplier;
import org.unetmm.pinning.internal.Errno;
import org.unetmm.pinning.internal.Libc;

/**
 * The child JVM of {@link UnprivilegedPinningTest}: runs as an unprivileged user without
 * CAP_IPC_LOCK under a small RLIMIT_MEMLOCK and checks, against the kernel, that the pinning
 * layer lives within it. Prints one {@code RESULT OK <mode> key=value...} line and exits 0, or
 * {@code RESULT FAIL <reason>} with a stack trace and exits 1.
 *
 * <pre>
 *   UnprivilegedPinningChild limited &lt;memlock bytes&gt;   a small non-zero limit
 *   UnprivilegedPinningChild zero                     RLIMIT_MEMLOCK = 0
 *   UnprivilegedPinningChild shared &lt;memlock bytes&gt;    two default caches share the limit
 * </pre>
 */
public final class UnprivilegedPinningChild {
    private static final int PAGE = (int) NativeMemory.pageSize();
    private static final int BUFFER_BYTES = 16 * 1024;
    private static final int WORKING_SET_TIMES_LIMIT = 8;
    private static final int ROUNDS = 3;

    private UnprivilegedPinningChild() {
    }

    public static void main(String[] args) {
        ChildResult.report(() -> switch (args[0]) {
            case "limited" -> limited(Long.parseLong(args[1]));
            case "zero" -> zero();
            case "shared" -> shared(Long.parseLong(args[1]));
            default -> throw new IllegalArgumentException("unknown mode " + args[0]);
        });
    }

    private static String limited(long limit) {
        String identity = checkUnprivileged();
        Libc.Rlimit rlimit = Libc.memlockLimit();
        check(rlimit.soft() == limit && rlimit.hard() == limit, () -> "RLIMIT_MEMLOCK is " + rlimit + ", expected " + limit);
        PinBudget budget = PinBudget.fromProcess();
        check(budget.bytes() == limit && budget.source().equals("RLIMIT_MEMLOCK"),
                () -> "PinBudget.fromProcess() gave " + budget + ", expected " + limit + " bytes from RLIMIT_MEMLOCK");
        try (PageTranslator translator = PageTranslator.open()) {
            check(translator.mode() == PageTranslator.Mode.VIRTUAL && translator.translate(12345) == 12345,
                    () -> "unprivileged PageTranslator should be VIRTUAL, is " + translator.mode());
        }
        long baseline = ProcessStatus.vmLckBytes();

        // a working set many times the limit, through the default cache (budget = RLIMIT_MEMLOCK)
        int count = (int) (WORKING_SET_TIMES_LIMIT * limit / BUFFER_BYTES);
        ByteBuffer[] buffers = new ByteBuffer[count];
        for (int i = 0; i < count; i++) {
            buffers[i] = ByteBuffer.allocateDirect(BUFFER_BYTES);
        }
        PinStats stats;
        try (PinCache cache = PinCache.create()) {
            check(cache.budget().bytes() == limit, () -> "default cache budget " + cache.budget());
            for (int round = 0; round < ROUNDS; round++) {
                for (int i = 0; i < count; i++) {
                    int partner = (i + count / 2) % count;
                    // two regions in use at once, each written and read back while pinned
                    try (PinHandle first = cache.acquire(buffers[i]);
                         PinHandle second = cache.acquire(buffers[partner], 100, BUFFER_BYTES - 200)) {
                        fill(buffers[i], i, round);
                        verify(buffers[i], i, round);
                        verify(buffers[partner], partner, round - (partner < i ? 0 : 1));
                        long locked = ProcessStatus.vmLckBytes() - baseline;
                        check(locked == cache.pinnedBytes(), () -> "VmLck " + locked + " != pinned " + cache.pinnedBytes());
                        check(locked <= limit, () -> "VmLck " + locked + " over the limit " + limit);
                        check(!first.isReleased() && !second.isReleased(), () -> "handles released early");
                    }
                }
            }
            for (int i = 0; i < count; i++) {
                verify(buffers[i], i, ROUNDS - 1);
            }
            stats = cache.stats();
            check(stats.evictions() > 0, () -> "no evictions with a working set over the limit: " + cache.stats());
            check(stats.peakPinnedBytes() <= limit, () -> "peak pinned over the limit: " + cache.stats());
        }
        check(ProcessStatus.vmLckBytes() == baseline, () -> "VmLck not back at baseline after close");

        // one region larger than the whole limit: the budget refuses before the kernel is asked
        ByteBuffer big = ByteBuffer.allocateDirect((int) limit + 3 * PAGE);
        try (PinCache cache = PinCache.create()) {
            PinBudgetExceededException refused = expect(PinBudgetExceededException.class, () -> cache.acquire(big));
            check(refused.requestedBytes() > limit && refused.budgetBytes() == limit,
                    () -> "refusal numbers: " + refused.getMessage());
            check(ProcessStatus.vmLckBytes() == baseline, () -> "VmLck moved on a refused pin");
        }

        // with the budget forced to unlimited, the kernel's own refusal (ENOMEM) surfaces, typed
        String kernelRefusal;
        try (PinCache cache = new PinCache(PinCacheConfig.builder().budget(PinBudget.unlimited()).build())) {
            PinHandle small = cache.acquire(buffers[0], 0, PAGE);
            MemlockLimitException e = expect(MemlockLimitException.class, () -> cache.acquire(big));
            check(e.errno() == Errno.ENOMEM && e.call().equals("mlock"), () -> "kernel refusal: " + e.getMessage());
            check(e.rlimitBytes() == limit && e.requestedBytes() >= limit, () -> "refusal numbers: " + e.getMessage());
            check(e.getMessage().contains("RLIMIT_MEMLOCK"), () -> "message does not name the limit: " + e.getMessage());
            long locked = ProcessStatus.vmLckBytes() - baseline;
            check(locked == cache.pinnedBytes() && locked == small.pages().length(),
                    () -> "after the kernel's refusal VmLck " + locked + " vs pinned " + cache.pinnedBytes());
            small.release();
            kernelRefusal = e.errnoName();
        }
        check(ProcessStatus.vmLckBytes() == baseline, () -> "VmLck not back at baseline at the end");

        return "limited " + identity + " limit=" + limit + " budget=" + budget.bytes() + " source=" + budget.source()
                + " workingSet=" + (long) count * BUFFER_BYTES + " rounds=" + ROUNDS
                + " misses=" + stats.misses() + " evictions=" + stats.evictions()
                + " peakPinned=" + stats.peakPinnedBytes() + " oversized=PinBudgetExceededException"
                + " unlimitedBudget=MemlockLimitException/" + kernelRefusal;
    }

    private static String zero() {
        String identity = checkUnprivileged();
        Libc.Rlimit rlimit = Libc.memlockLimit();
        check(rlimit.soft() == 0 && rlimit.hard() == 0, () -> "RLIMIT_MEMLOCK is " + rlimit + ", expected 0");
        PinPermissionException fromProcess = expect(PinPermissionException.class, PinBudget::fromProcess);
        check(fromProcess.getMessage().contains("FIXED_SEGMENT"), () -> "message names no fix: " + fromProcess.getMessage());
        expect(PinPermissionException.class, PinCache::create);

        ByteBuffer buffer = ByteBuffer.allocateDirect(PAGE);
        long page = NativeMemory.address(buffer) & -PAGE;
        PinPermissionException raw = expect(PinPermissionException.class, () -> {
            Libc.mlock(page, PAGE);
            return null;
        });
        check(raw.errno() == Errno.EPERM && raw.call().equals("mlock"), () -> "raw mlock: " + raw.getMessage());
        check(raw.getMessage().contains("CAP_IPC_LOCK"), () -> "message does not name CAP_IPC_LOCK: " + raw.getMessage());

        try (PinCache cache = new PinCache(PinCacheConfig.builder().budget(PinBudget.unlimited()).build())) {
            expect(PinPermissionException.class, () -> cache.acquire(buffer));
            check(cache.pinnedBytes() == 0 && cache.inUseRegions() == 0, () -> "a refused pin left state behind");
        }
        check(ProcessStatus.vmLckBytes() == 0, () -> "VmLck is not 0 under RLIMIT_MEMLOCK=0");
        return "zero " + identity + " fromProcess=PinPermissionException mlock=" + raw.errnoName();
    }

    /**
     * Two caches with the default budget (each the whole RLIMIT_MEMLOCK) draw from one process
     * budget: a pin of one reclaims the other's idle regions, then asks its reclaimer; when
     * regions in use fill the limit, the refusal is typed and names RLIMIT_MEMLOCK.
     */
    private static String shared(long limit) {
        String identity = checkUnprivileged();
        int limitPages = (int) (limit / PAGE);
        long baseline = ProcessStatus.vmLckBytes();
        NativeBuffer first = NativeMemory.allocate(limitPages * 3 / 4 * PAGE, true);
        NativeBuffer second = NativeMemory.allocate(limitPages / 2 * PAGE, true);
        String refusal;
        try (PinCache a = PinCache.create(); PinCache b = PinCache.create()) {
            check(a.budget().bytes() == limit && b.budget().bytes() == limit, () -> "default budgets " + a.budget());
            a.acquire(first, 0, first.capacity()).release();
            check(ProcessStatus.vmLckBytes() - baseline == first.capacity(), () -> "A's idle region not locked");

            // B needs room A's idle region holds: A's idle region goes
            PinHandle inB = b.acquire(second, 0, second.capacity());
            long locked = ProcessStatus.vmLckBytes() - baseline;
            check(locked == second.capacity() && locked == LockedMemory.process().lockedBytes(),
                    () -> "after B's pin VmLck " + locked + ", process count " + LockedMemory.process().lockedBytes());
            check(a.idleRegions() == 0 && a.pinnedBytes() == 0, () -> "A's idle region was not reclaimed: " + a.stats());

            // regions in use fill the limit and B has no reclaimer: refused, typed, nothing locked
            PinBudgetExceededException refused = expect(PinBudgetExceededException.class,
                    () -> a.acquire(first, 0, first.capacity()));
            check(refused.processWide() && refused.getMessage().contains("RLIMIT_MEMLOCK")
                            && refused.budgetBytes() == limit, () -> "refusal: " + refused.getMessage());
            check(ProcessStatus.vmLckBytes() - baseline == second.capacity(), () -> "VmLck moved on a refused pin");

            // B's reclaimer gives up its pin (as a NIC's TLB gives up translations): A's pin fits
            b.addReclaimer(bytes -> inB.close());
            PinHandle inA = a.acquire(first, 0, first.capacity());
            long after = ProcessStatus.vmLckBytes() - baseline;
            check(inB.isReleased() && after == first.capacity() && after == a.pinnedBytes() && b.pinnedBytes() == 0,
                    () -> "after reclaim VmLck " + after + ", A " + a.pinnedBytes() + ", B " + b.pinnedBytes());
            inA.release();
            refusal = refused.getClass().getSimpleName();
        }
        first.close();
        second.close();
        check(ProcessStatus.vmLckBytes() == baseline, () -> "VmLck not back at baseline at the end");
        return "shared " + identity + " limit=" + limit + " reclaimedIdle=true reclaimer=true refusal=" + refusal;
    }

    private static String checkUnprivileged() {
        boolean capIpcLock = ProcessStatus.hasCapIpcLock();
        int uid = KernelView.uid();
        check(!capIpcLock, () -> "the child holds CAP_IPC_LOCK");
        check(uid != 0, () -> "the child runs as root");
        return "uid=" + uid + " capIpcLock=" + capIpcLock;
    }

    private static void fill(ByteBuffer buffer, int index, int round) {
        for (int i = 0; i < buffer.capacity(); i++) {
            buffer.put(i, pattern(index, round, i));
        }
    }

    private static void verify(ByteBuffer buffer, int index, int round) {
        if (round < 0) {
            return;
        }
        for (int i = 0; i < buffer.capacity(); i++) {
            if (buffer.get(i) != pattern(index, round, i)) {
                throw new IllegalStateException("buffer " + index + " byte " + i + " is " + buffer.get(i)
                        + ", expected " + pattern(index, round, i) + " (round " + round + ")");
            }
        }
    }

    private static byte pattern(int index, int round, int offset) {
        return (byte) (index * 31 + round * 17 + offset * 7 + (offset >>> 8));
    }

    private static void check(boolean condition, Supplier<String> failure) {
        if (!condition) {
            throw new IllegalStateException(failure.get());
        }
    }

    private static <T extends Throwable> T expect(Class<T> type, Supplier<?> action) {
        Object result;
        try {
            result = action.get();
        } catch (Throwable t) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
            throw new IllegalStateException("expected " + type.getSimpleName() + ", got " + t, t);
        }
        throw new IllegalStateException("expected " + type.getSimpleName() + ", got the result " + result);
    }
}
