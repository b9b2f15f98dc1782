package org.unetmm.rpc;

/**
 * Serves one method. Runs on the server's progress thread (the NIC thread, or the caller of
 * {@code Nic.progress()}), once per request, and must answer through {@code response} before it
 * returns (replies leave in request order). It must not block: a handler that waits stalls every
 * client of the server.
 */
@FunctionalInterface
public interface RpcHandler {
    /**
     * Serves one request, on the server's progress thread; answers it exactly once through {@code response}.
     *
     * @param request  the request, a reused view valid only during the call
     * @param response the answer, a reused view valid only during the call
     */
    void handle(RpcRequest request, RpcResponse response);
}
