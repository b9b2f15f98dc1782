package org.unetmm.nic.fault;

/**
 * What a {@link FaultInjectingTransport} has done so far.
 *
 * @param frames     frames the NIC handed to it
 * @param dropped    frames lost
 * @param duplicated frames sent twice
 * @param reordered  frames held back behind later ones
 * @param corrupted  frames with a bit flipped
 * @param delayed    frames held for the configured delay
 * @param held       frames held now
 * @param blackedOut frames lost to a blackout ({@link FaultInjectingTransport#blackout}); not counted in dropped
 */
public record FaultStats(long frames, long dropped, long duplicated, long reordered, long corrupted, long delayed, int held,
                         long blackedOut) {
}
