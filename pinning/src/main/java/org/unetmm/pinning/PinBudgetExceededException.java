package org.unetmm.pinning;

/**
 * A pin would take the pinned bytes past the {@link PinBudget} even after every idle region was
 * unpinned: the regions in use alone leave no room. Release handles, enlarge the budget, or pin
 * smaller regions.
 */
public class PinBudgetExceededException extends PinningException {
    private static final long serialVersionUID = 1L;

    private final long pinnedBytes;
    private final long inUseBytes;
    private final long requestedBytes;
    private final long budgetBytes;

    public PinBudgetExceededException(long pinnedBytes, long inUseBytes, long requestedBytes, long budgetBytes) {
        super("pin budget exhausted: asked to pin " + requestedBytes + " more bytes, but " + pinnedBytes
                + " bytes are pinned (" + inUseBytes + " of them by regions in use) against a budget of "
                + budgetBytes + " bytes; release handles, raise the budget (PinBudget.ofBytes or RLIMIT_MEMLOCK)"
                + " or pin smaller regions");
        this.pinnedBytes = pinnedBytes;
        this.inUseBytes = inUseBytes;
        this.requestedBytes = requestedBytes;
        this.budgetBytes = budgetBytes;
    }

    /**
     * The same refusal told from a caller's side: {@code message} says what was being pinned and
     * which of the caller's settings fixes it; the figures are {@code cause}'s.
     */
    protected PinBudgetExceededException(String message, PinBudgetExceededException cause) {
        super(message, cause);
        this.pinnedBytes = cause.pinnedBytes;
        this.inUseBytes = cause.inUseBytes;
        this.requestedBytes = cause.requestedBytes;
        this.budgetBytes = cause.budgetBytes;
    }

    public long pinnedBytes() {
        return pinnedBytes;
    }

    public long inUseBytes() {
        return inUseBytes;
    }

    public long requestedBytes() {
        return requestedBytes;
    }

    public long budgetBytes() {
        return budgetBytes;
    }
}
