package org.unetmm;

/**
 * A snapshot of an {@link Endpoint}'s counters and queue high-water marks.
 *
 * <p>While the completion queue is full the NIC pauses the endpoint's sends and drops arriving
 * messages ({@link DropReason#COMPLETION_QUEUE_FULL} in {@link NicStats#drops()}). What it cannot
 * hold back (sends the wire held and releases later, everything posted when the endpoint closes)
 * still completes: {@code completionsOverflowed} counts those that were kept aside until polled.
 * None is lost, but each is allocated and queued apart, slower than the ring; above zero before
 * close, the queue is smaller than what can be in flight ({@link EndpointConfig.Builder#completionQueue}).
 */
public record EndpointStats(long sendsAccepted, long sendsCompleted, long sendsFailed, long receivesPosted,
                            long receivesCompleted, long receivesFailed, long bytesSent, long bytesReceived,
                            long sendQueueHighWater, long freeQueueHighWater, long completionQueueHighWater,
                            long completionsOverflowed) {
}
