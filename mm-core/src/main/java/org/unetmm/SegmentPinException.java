package org.unetmm;

import org.unetmm.pinning.PinBudgetExceededException;

/**
 * An endpoint's fixed segment could not be pinned when the endpoint was created: the pin budget
 * (RLIMIT_MEMLOCK for an ordinary user, 8 MiB on a default Linux account) has no room for it. The
 * message names the setting that fixes it ({@code EndpointConfig.segmentBytes}); the figures are
 * those of the pin cache's refusal, its cause.
 */
public final class SegmentPinException extends PinBudgetExceededException {
    private static final long serialVersionUID = 1L;

    /**
     * The refusal told from the endpoint's side.
     *
     * @param message what was pinned and which setting fixes it
     * @param cause   the pin cache's refusal, whose figures this carries
     */
    public SegmentPinException(String message, PinBudgetExceededException cause) {
        super(message, cause);
    }
}
