package org.unetmm;

/** A snapshot of an {@link Endpoint}'s counters and queue high-water marks. */
public record EndpointStats(long sendsAccepted, long sendsCompleted, long sendsFailed, long receivesPosted,
                            long receivesCompleted, long receivesFailed, long bytesSent, long bytesReceived,
                            long sendQueueHighWater, long freeQueueHighWater, long completionQueueHighWater) {
}
