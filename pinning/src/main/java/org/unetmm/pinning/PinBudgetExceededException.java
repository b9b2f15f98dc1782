package org.unetmm.pinning;

/**
 * A pin would take the pinned bytes past the {@link PinBudget} even after every idle region was
 * unpinned: the regions in use alone leave no room. Release handles, enlarge the budget, or pin
 * smaller regions.
 *
 * <p>{@link #processWide()} tells the cache's own budget from the process's: the memory every
 * cache (every NIC) of the process has locked together, against RLIMIT_MEMLOCK
 * ({@link LockedMemory}); then idle pins of other caches and their reclaimers were asked too.
 */
public class PinBudgetExceededException extends PinningException {
    private static final long serialVersionUID = 1L;

    /** Bytes pinned when the pin was refused. */
    private final long pinnedBytes;
    /** Of those, bytes of regions in use. */
    private final long inUseBytes;
    /** Bytes more the refused pin wanted. */
    private final long requestedBytes;
    /** The budget that refused, in bytes. */
    private final long budgetBytes;

    /** Whether the process's budget refused rather than the cache's. */
    private final boolean processWide;

    /**
     * A cache's own budget refused.
     *
     * @param pinnedBytes    bytes the cache has pinned
     * @param inUseBytes     of those, bytes of regions in use
     * @param requestedBytes bytes more the pin wanted
     * @param budgetBytes    the cache's budget in bytes
     */
    public PinBudgetExceededException(long pinnedBytes, long inUseBytes, long requestedBytes, long budgetBytes) {
        this("pin budget exhausted: asked to pin " + requestedBytes + " more bytes, but " + pinnedBytes
                + " bytes are pinned (" + inUseBytes + " of them by regions in use) against a budget of "
                + budgetBytes + " bytes; release handles, raise the budget (PinBudget.ofBytes or RLIMIT_MEMLOCK)"
                + " or pin smaller regions", pinnedBytes, inUseBytes, requestedBytes, budgetBytes, false);
    }

    private PinBudgetExceededException(String message, long pinnedBytes, long inUseBytes, long requestedBytes,
                                       long budgetBytes, boolean processWide) {
        // the process-wide refusal is an expected outcome under pressure (a TLB miss gives up a translation on
        // it and tries again, once per page), so it carries no stack trace: its message says where and why
        super(message, !processWide);
        this.processWide = processWide;
        this.pinnedBytes = pinnedBytes;
        this.inUseBytes = inUseBytes;
        this.requestedBytes = requestedBytes;
        this.budgetBytes = budgetBytes;
    }

    /**
     * The same refusal told from a caller's side: {@code message} says what was being pinned and
     * which of the caller's settings fixes it; the figures are {@code cause}'s.
     *
     * @param message what was being pinned and which setting fixes it
     * @param cause   the refusal, not null
     */
    protected PinBudgetExceededException(String message, PinBudgetExceededException cause) {
        super(message, cause);
        this.pinnedBytes = cause.pinnedBytes;
        this.inUseBytes = cause.inUseBytes;
        this.requestedBytes = cause.requestedBytes;
        this.budgetBytes = cause.budgetBytes;
        this.processWide = cause.processWide;
    }

    /**
     * The process's budget refused: {@code lockedBytes} are locked by every cache of the process,
     * {@code ownBytes} of them by the refused one; {@code limitBytes} is RLIMIT_MEMLOCK.
     *
     * @param lockedBytes    bytes locked by every cache of the process
     * @param ownBytes       of those, bytes locked by the refused cache
     * @param requestedBytes bytes more the pin wanted
     * @param limitBytes     the process's limit in bytes
     * @param limitSource    where the limit came from, e.g. {@code "RLIMIT_MEMLOCK"}
     * @return the refusal, without a stack trace (it is expected under pressure)
     */
    public static PinBudgetExceededException processWide(long lockedBytes, long ownBytes, long requestedBytes,
                                                         long limitBytes, String limitSource) {
        return new PinBudgetExceededException("process-wide pin budget exhausted: asked to lock " + requestedBytes
                + " more bytes, but the process has " + lockedBytes + " bytes locked (" + ownBytes
                + " of them by this pin cache, the rest by other pin caches or NICs of the process) against its "
                + limitSource + " of " + limitBytes + " bytes, after idle pins and idle translations of every cache"
                + " were given up; close NICs or endpoints not in use, use smaller fixed segments"
                + " (EndpointConfig.segmentBytes), or raise RLIMIT_MEMLOCK (ulimit -l)",
                lockedBytes, ownBytes, requestedBytes, limitBytes, true);
    }

    /** {@return whether the process's budget (RLIMIT_MEMLOCK, all caches together) refused, not the cache's own} */
    public boolean processWide() {
        return processWide;
    }

    /** {@return bytes pinned when the pin was refused: the cache's, or the process's when {@link #processWide()}} */
    public long pinnedBytes() {
        return pinnedBytes;
    }

    /**
     * {@return bytes held by regions in use, of {@link #pinnedBytes()}; for a process-wide refusal, bytes the
     * refused cache has locked}
     */
    public long inUseBytes() {
        return inUseBytes;
    }

    /** {@return bytes more the refused pin wanted} */
    public long requestedBytes() {
        return requestedBytes;
    }

    /** {@return the budget that refused, in bytes} */
    public long budgetBytes() {
        return budgetBytes;
    }
}
