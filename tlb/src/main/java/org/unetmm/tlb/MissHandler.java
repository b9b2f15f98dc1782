package org.unetmm.tlb;

import java.nio.ByteBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.PageTranslator;
import org.unetmm.pinning.PinCache;
import org.unetmm.tlb.internal.PinningMissHandler;

/**
 * The trap into the kernel: called by the {@link Tlb} when a lookup or prefetch misses, on the
 * thread that looked up and without any TLB lock held. It makes the page translatable (for the
 * real NIC: pins it) and returns its {@link Translation}, whose pin the TLB then owns.
 *
 * <p>A shootdown may run while the handler does; the TLB then discards the returned translation
 * (releasing its pin) and calls the handler again, so a handler must be repeatable. It may throw
 * (budget exhausted, bad address); the TLB then inserts nothing and the lookup throws the same.
 *
 * @see #pinning the handler backed by the pin cache
 */
@FunctionalInterface
public interface MissHandler {
    /**
     * @param context     the TLB context of the lookup
     * @param owner       the buffer the lookup said holds the address (consulted only on a miss)
     * @param pageAddress the address of the first byte of the missing page (page-aligned)
     * @return the page's translation; never {@code null}
     */
    Translation onMiss(int context, ByteBuffer owner, long pageAddress);

    /**
     * The kernel side of U-Net/MM's miss: pins the page on demand through {@code cache} (a hit
     * there takes an idle pin back without a system call) and returns its frame from
     * {@code translator}. The page is clipped to the owner buffer first; a page the owner does not
     * touch is refused with {@link BadAddressException}. A {@link Tlb} built with it attaches to
     * the cache's shootdowns at once; one built with a handler that wraps it must call
     * {@link Tlb#attach(PinCache)} itself. {@link Tlb#over} builds the usual pairing in one call.
     *
     * @param cache      the pin cache the pages are pinned through
     * @param translator where the frames come from
     * @return the handler; it owns neither the cache nor the translator
     */
    static MissHandler pinning(PinCache cache, PageTranslator translator) {
        return new PinningMissHandler(cache, translator);
    }

    /**
     * A handler that pins nothing and translates each page to its own virtual page number, for
     * trace-only and model runs where only hit and miss matter. Ignores the owner (may be null).
     *
     * @return the handler; stateless
     */
    static MissHandler unpinned() {
        return (context, owner, pageAddress) -> new Translation(pageAddress / NativeMemory.pageSize(), null);
    }
}
