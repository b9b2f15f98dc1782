package org.unetmm.pinning;

/** Why a {@link PinCache} unpins a region. */
public enum UnpinCause {
    /** An idle region was evicted: by Caffeine's size policy, or to make room within the budget. */
    EVICTED,
    /** The range was invalidated ({@link PinCache#invalidate}) or its memory freed. */
    INVALIDATED,
    /** The cache was closed. */
    CLOSED
}
