"""Needs (需求清单): raised on the doorstep or at the station, matched with the providers' offers, dispatched, served,
confirmed by the household and evaluated; read by area and month."""
