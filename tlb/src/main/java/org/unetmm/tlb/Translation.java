package org.unetmm.tlb;

import org.unetmm.pinning.PinHandle;

/**
 * What a {@link MissHandler} returns for one page: the frame number the NIC addresses it by, and
 * the pin reference that keeps the page locked while the translation lives in the TLB.
 *
 * <p>Ownership: the {@link Tlb} takes the pin. It releases it exactly once, when the entry is
 * evicted or shot down, when a shootdown overlapping the miss makes the translation stale before
 * it is inserted, or at {@link Tlb#close()}. A handler that does not pin (trace-only and model
 * runs) returns {@code null} for {@code pin}.
 *
 * @param frame the page frame number (physical, or the virtual page where frames are hidden); not negative
 * @param pin   the pin reference the TLB entry holds, or {@code null} if the handler does not pin
 */
public record Translation(long frame, PinHandle pin) {
    /**
     * Checks the frame.
     *
     * @param frame the page frame number, not negative
     * @param pin   the pin reference the TLB entry takes ownership of, or {@code null}
     * @throws IllegalArgumentException if {@code frame} is negative
     */
    public Translation {
        if (frame < 0) {
            throw new IllegalArgumentException("frame number must not be negative, got " + frame
                    + ": a page not present in RAM has no frame; pin (mlock) it before translating");
        }
    }
}
