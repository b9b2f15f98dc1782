package org.unetmm.tlb.internal;

import java.nio.ByteBuffer;
import java.util.Objects;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.PageTranslator;
import org.unetmm.pinning.PinCache;
import org.unetmm.pinning.PinHandle;
import org.unetmm.tlb.BadAddressException;
import org.unetmm.tlb.MissHandler;
import org.unetmm.tlb.Tlb;
import org.unetmm.tlb.Translation;

/**
 * The kernel side of a TLB miss, as U-Net/MM has it: pin the page on demand through the
 * {@link PinCache} (a hit there takes an idle pin back without a system call) and return its
 * frame from the {@link PageTranslator}, with the pin the TLB entry will hold.
 *
 * <p>The page is clipped to the owner buffer before it is acquired: the pin cache pins only
 * bytes of the buffer it was given, so a page the owner covers partly is pinned through the part
 * it covers (the whole page is locked either way; mlock works in pages). A page the owner does
 * not touch at all is refused with {@link BadAddressException}.
 *
 * <p>A {@link Tlb} built with this handler subscribes itself to the cache's shootdowns
 * ({@link Tlb#attach(PinCache)}), so invalidating or freeing memory in the cache drops its
 * translations first.
 *
 * <p>Internal: users reach it as {@link MissHandler#pinning} or build the pair with
 * {@link Tlb#over}; only the {@link Tlb} needs the class (to find the cache it attaches to).
 *
 * <p>Thread-safe if the cache and translator are (they are).
 */
public final class PinningMissHandler implements MissHandler {
    private static final long PAGE = NativeMemory.pageSize();

    private final PinCache cache;
    private final PageTranslator translator;

    public PinningMissHandler(PinCache cache, PageTranslator translator) {
        this.cache = Objects.requireNonNull(cache, "cache: the PinCache that pins pages on a miss");
        this.translator = Objects.requireNonNull(translator, "translator: PageTranslator.open()");
    }

    public PinCache cache() {
        return cache;
    }

    public PageTranslator translator() {
        return translator;
    }

    @Override
    public Translation onMiss(int context, ByteBuffer owner, long pageAddress) {
        if (owner == null) {
            throw new BadAddressException(pageAddress, PAGE, "cannot translate the page at 0x"
                    + Long.toHexString(pageAddress) + " without its owner buffer: pass the ByteBuffer that holds the address");
        }
        long base = NativeMemory.address(owner);
        long end = base + owner.capacity();
        long from = Math.max(pageAddress, base);
        long to = Math.min(pageAddress + PAGE, end);
        if (from >= to) {
            throw new BadAddressException(pageAddress, PAGE, "page at 0x" + Long.toHexString(pageAddress)
                    + " lies outside its owner buffer [0x" + Long.toHexString(base) + ", 0x" + Long.toHexString(end)
                    + "): pass the buffer that holds the address, or an address inside this buffer");
        }
        PinHandle pin = cache.acquire(owner, (int) (from - base), (int) (to - from));
        try {
            return new Translation(translator.translate(pageAddress / PAGE), pin);
        } catch (RuntimeException e) {
            pin.release();
            throw e;
        }
    }

    @Override
    public String toString() {
        return "PinningMissHandler[" + translator.mode() + " frames, budget " + cache.budget() + "]";
    }
}
