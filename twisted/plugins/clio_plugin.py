from twisted.application.service import ServiceMaker

clio = ServiceMaker("clio", "clio_twisted.tap", "An XRP Ledger API server (Clio on Twisted)", "clio")
